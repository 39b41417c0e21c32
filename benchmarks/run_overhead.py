"""Fixed per-run overhead of `negpen run`: where the wall time of one default MNIST run goes.

Times a fresh `negpen run` process end to end and splits it into the phases the run records
itself (data load from the prepared cache, model build, training, evaluation, writing) and
the rest (process start, imports, validation).
The fixed overhead is everything except training.

    python benchmarks/run_overhead.py --data mnist.npz [--epochs 5]
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


def wall(command) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="prepared MNIST .npz (negpen prepare)")
    source.add_argument("--synthetic", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = args.data
        if args.synthetic:
            datasets.prepare("mnist", "files", synthetic.write_idx(tmp / "idx"), tmp / "mnist.npz")
            data = str(tmp / "mnist.npz")
        total = wall([sys.executable, "-m", "negpen.cli", "run", "--dataset", "mnist", "--prepared", data, *SPLIT,
                      "--loss", "negpen", "--epochs", str(args.epochs), "--threads", str(args.threads),
                      "--out", str(tmp / "run")])
        timing = json.loads((tmp / "run" / "metrics.json").read_text())["timing"]
    phases = {name: timing[name] for name in ("data_load", "model_build", "train", "evaluate", "write")}
    phases = {"process start, imports, validation (total minus recorded phases)": total - sum(phases.values()),
              **phases}
    print(f"| phase | seconds | share of {total:.1f} s |\n|---|---|---|")
    for name, seconds in phases.items():
        print(f"| {name} | {seconds:.2f} | {seconds / total:.1%} |")
    print(f"\nfixed overhead (all but train): {total - timing['train']:.2f} s = "
          f"{(total - timing['train']) / total:.1%} of the run")


if __name__ == "__main__":
    main()
