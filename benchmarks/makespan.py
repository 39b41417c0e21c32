"""Grid makespan against the ideal: a reduced real grid run with `snakemake --cores N`.

Ideal = Σ (CPU-seconds of each training job, from Snakemake's benchmark files) / cores;
makespan = wall time of the whole `snakemake` invocation, data preparation excluded (it is
run first). A ratio near 1 means no idle cores and no thread oversubscription (each job
uses `threads: 1`, so CPU-seconds ≈ wall seconds per job).

    python benchmarks/makespan.py --mnist-dir <IDX dir> [--cores 2 --limit-train 12000]
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
    parser.add_argument("--limit-train", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = workflow_copy(Path(tmp) / "wf", with_smoke_data=False)
        data_dir = args.mnist_dir or str(synthetic.write_idx(Path(tmp) / "idx"))
        split = {"positives": [0, 1, 2, 3, 4, 5], "known_negatives": [6, 7], "unknown_negatives": [8, 9]}
        config = {
            "seeds": [0, 1], "threads": 1,
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
        bench = pd.concat([pd.read_csv(p, sep="\t") for p in (workdir / "results/benchmarks/train").rglob("*.tsv")])
    ideal = bench["cpu_time"].sum() / args.cores
    print(f"{len(bench)} training jobs, --cores {args.cores}: Σ CPU {bench['cpu_time'].sum():.1f} s, "
          f"Σ wall {bench['s'].sum():.1f} s, ideal {ideal:.1f} s, makespan {makespan:.1f} s, "
          f"ratio {makespan / ideal:.2f}")


if __name__ == "__main__":
    main()
