"""Fixed per-run overhead of `negpen run`: where the wall time of a default MNIST run goes.

Times, side by side in one invocation, (a) a fresh `negpen run` process training one run and
(b) one process training N seeds (`negpen run --seeds`, what `seeds_per_job: N` does in the
workflow). (a) is split into the phases the run records itself (data load from the prepared
cache, model build, training, evaluation, writing) and the rest (process start, imports,
validation). The fixed overhead is everything except training; for (b) it is shared by N runs.

    python benchmarks/run_overhead.py --data mnist.npz [--epochs 5 --threads 1 --runs-per-process 3]
    python benchmarks/run_overhead.py --synthetic --epochs 1      # CI's quick version
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from negpen import datasets, synthetic

SPLIT = ["--positives", "0,1,2,3,4,5", "--known-negatives", "6,7", "--unknown-negatives", "8,9"]
PHASES = ("data_load", "model_build", "train", "evaluate", "write")


def timed_process(command) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="prepared MNIST .npz (negpen prepare)")
    source.add_argument("--synthetic", action="store_true")
    parser.add_argument("--epochs", type=int, default=5, help="default MNIST run: 5")
    parser.add_argument("--threads", type=int, default=1, help="default grid: 1 thread per job")
    parser.add_argument("--runs-per-process", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if args.synthetic:
            datasets.prepare("mnist", "files", synthetic.write_idx(tmp / "idx"), tmp / "mnist.npz")
            data = str(tmp / "mnist.npz")
        base = [sys.executable, "-m", "negpen.cli", "run", "--dataset", "mnist", "--prepared", data, *SPLIT,
                "--loss", "negpen", "--epochs", str(args.epochs), "--threads", str(args.threads)]
        single = timed_process([*base, "--out", str(tmp / "single")])
        timing = json.loads((tmp / "single" / "metrics.json").read_text())["timing"]
        seeds = list(range(args.runs_per_process))
        shared = timed_process([*base, "--seeds", ",".join(map(str, seeds)), "--out", str(tmp / "shared/seed{seed}")])
        shared_train = sum(json.loads((tmp / f"shared/seed{seed}/metrics.json").read_text())["timing"]["train"]
                           for seed in seeds)

    phases = {name: timing[name] for name in PHASES}
    phases = {"process start, imports, validation (total minus recorded phases)": single - sum(phases.values()),
              **phases}
    print(f"One run per process ({args.epochs} epochs, --threads {args.threads}):\n")
    print(f"| phase | seconds | share of {single:.1f} s |\n|---|---|---|")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.2f} | {seconds / single:.1%} |")
    fixed = single - timing["train"]
    print(f"\nfixed overhead (all but train), one run per process: {fixed:.2f} s = {fixed / single:.1%} of the run")
    n = args.runs_per_process
    fixed_shared = (shared - shared_train) / n
    print(f"fixed overhead, {n} runs per process: {shared:.1f} s for {n} runs, train {shared_train:.1f} s; "
          f"{fixed_shared:.2f} s per run = {fixed_shared / (shared / n):.1%} of a run")


if __name__ == "__main__":
    main()
