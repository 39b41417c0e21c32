"""Grid makespan against the ideal: a reduced real grid run with `snakemake --cores N`.

Ideal = Σ CPU-seconds of the invocation / cores, where the CPU-seconds are those of every
job (training, aggregation, plots) and of Snakemake itself, from `getrusage(RUSAGE_CHILDREN)`
(Snakemake's benchmark files sample CPU time every 30 s once a job has run 15 s, so they miss
the tail of short jobs; their sum is printed for comparison); makespan = wall time of the
whole `snakemake` invocation, data preparation excluded (it is run first). A ratio near 1
means no idle cores and no thread oversubscription (each job uses `threads: 1`). The same
grid runs once per `--seeds-per-job` value, side by side in one invocation.

    python benchmarks/makespan.py --mnist-dir <IDX dir> [--cores 2 --epochs 5 --limit-train 0]
    python benchmarks/makespan.py --synthetic                   # CI's quick version
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from negpen import synthetic  # noqa: E402
from workflow_helpers import snakemake, workflow_copy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mnist-dir", help="directory with the MNIST IDX files")
    source.add_argument("--synthetic", action="store_true")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--limit-train", type=int, default=0, help="training subset (0: all, as the default grid)")
    parser.add_argument("--epochs", type=int, default=5, help="default MNIST run: 5")
    parser.add_argument("--seeds-per-job", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.mnist_dir or str(synthetic.write_idx(Path(tmp) / "idx"))
        for seeds_per_job in args.seeds_per_job:
            measure(Path(tmp) / f"wf{seeds_per_job}", data_dir, seeds_per_job, args)


def measure(workdir: Path, data_dir: str, seeds_per_job: int, args) -> None:
    workdir = workflow_copy(workdir, with_smoke_data=False)
    split = {"positives": [0, 1, 2, 3, 4, 5], "known_negatives": [6, 7], "unknown_negatives": [8, 9]}
    config = {
        "seeds": [0, 1], "threads": 1,
        "losses": {"ce_all": {}, "negpen": {}, "entropic": {}},
        "datasets": {"mnist": {"source": "files", "data_dir": str(Path(data_dir).resolve()), "epochs": args.epochs,
                               "seeds_per_job": seeds_per_job, "limit_train": args.limit_train or None,
                               "splits": {"s1": split, "s2": {**split, "positives": [4, 5, 6, 7, 8, 9],
                                                              "known_negatives": [0, 1],
                                                              "unknown_negatives": [2, 3]}}}},
    }
    (workdir / "config" / "grid.yaml").write_text(yaml.safe_dump(config))
    common = ["--configfile", "config/grid.yaml", "--cores", str(args.cores)]
    snakemake(workdir, *common, "--until", "prepare_data")
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    snakemake(workdir, *common, timeout=7200)
    makespan = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    root = workdir / "results" / "benchmarks"
    bench = pd.concat([pd.read_csv(path, sep="\t").assign(stage=path.relative_to(root).parts[0])
                       for path in root.rglob("*.tsv")], ignore_index=True)
    train = bench[bench["stage"].str.startswith("train")]
    ideal = cpu / args.cores
    print(f"seeds_per_job {seeds_per_job}: {len(train)} training jobs, --cores {args.cores}: CPU {cpu:.1f} s "
          f"(jobs' benchmark files: {bench['cpu_time'].sum():.1f} s CPU, {bench['s'].sum():.1f} s wall), "
          f"ideal {ideal:.1f} s, makespan {makespan:.1f} s, ratio {makespan / ideal:.2f}", flush=True)


if __name__ == "__main__":
    main()
