"""Grid makespan against the ideal: a reduced real grid run with `snakemake --cores N`.

Ideal = Σ (CPU-seconds of every job — training, aggregation, plots — from Snakemake's
benchmark files) / cores; makespan = wall time of the whole `snakemake` invocation, data
preparation excluded (it is run first). A ratio near 1 means no idle cores and no thread
oversubscription (each job uses `threads: 1`, so CPU-seconds ≈ wall seconds per job). The
same grid runs once per `--seeds-per-job` value, side by side in one invocation.

    python benchmarks/makespan.py --mnist-dir <IDX dir> [--cores 2 --limit-train 20000 --epochs 2]
    python benchmarks/makespan.py --synthetic                   # CI's quick version
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--limit-train", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=2)
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
        "seeds": [0, 1], "threads": 1, "seeds_per_job": seeds_per_job,
        "losses": {"ce_all": {}, "negpen": {}, "entropic": {}},
        "datasets": {"mnist": {"source": "files", "data_dir": str(Path(data_dir).resolve()), "epochs": args.epochs,
                               "limit_train": args.limit_train, "limit_test": 5000,
                               "splits": {"s1": split, "s2": {**split, "positives": [4, 5, 6, 7, 8, 9],
                                                              "known_negatives": [0, 1],
                                                              "unknown_negatives": [2, 3]}}}},
    }
    (workdir / "config" / "grid.yaml").write_text(yaml.safe_dump(config))
    common = ["--configfile", "config/grid.yaml", "--cores", str(args.cores)]
    snakemake(workdir, *common, "--until", "prepare_data")
    started = time.perf_counter()
    snakemake(workdir, *common, timeout=7200)
    makespan = time.perf_counter() - started
    bench = {path.relative_to(workdir / "results/benchmarks").parts[0]: pd.read_csv(path, sep="\t")
             for path in (workdir / "results/benchmarks").rglob("*.tsv")}
    bench = pd.concat(bench.values(), keys=bench.keys(), names=["stage", None]).reset_index(level=0)
    bench = bench[bench["stage"] != "prepare_data"]
    train = bench[bench["stage"] == "train"]
    ideal = bench["cpu_time"].sum() / args.cores
    print(f"seeds_per_job {seeds_per_job}: {len(train)} training jobs, --cores {args.cores}: "
          f"Σ CPU {bench['cpu_time'].sum():.1f} s (training {train['cpu_time'].sum():.1f} s), "
          f"Σ wall {bench['s'].sum():.1f} s, ideal {ideal:.1f} s, makespan {makespan:.1f} s, "
          f"ratio {makespan / ideal:.2f}", flush=True)


if __name__ == "__main__":
    main()
