"""Scale of the DAG: a dry run of a large grid, and aggregation of many synthetic run records.

    python benchmarks/dag_scale.py                 # 2,400 runs (targets: dry run <= 15 s, aggregation <= 10 s)
    python benchmarks/dag_scale.py --runs 240      # the quick version CI runs

The grid is 3 datasets × 10 splits × L losses × S seeds; the records are written with the
real record writer and random metrics, then aggregated by negpen.aggregate.write_tables in
a fresh process at 1/4, 1/2 and all of the records (peak RSS shows whether memory grows
linearly).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from negpen import grid, losses, records  # noqa: E402
from negpen.metrics import METRIC_NAMES  # noqa: E402
from workflow_helpers import snakemake, workflow_copy  # noqa: E402

SPLITS = {f"r{i}": {"positives": [int(c) for c in perm[:6]], "known_negatives": [int(c) for c in perm[6:8]],
                    "unknown_negatives": [int(c) for c in perm[8:]], "group": "6-2-2"}
          for i, perm in enumerate(np.random.default_rng(0).permuted(np.tile(np.arange(10), (10, 1)), axis=1))}


def big_config(runs: int) -> dict:
    loss_ids = list(losses.LOSS_IDS) + ["negpen"]
    per_seed = 3 * len(SPLITS) * len(loss_ids)
    seeds = max(1, runs // per_seed)
    return {
        "seeds": list(range(seeds)), "threads": 1,
        "losses": {f"{loss}_{i}" if i else loss: {"id": loss} for i, loss in enumerate(loss_ids)},
        "datasets": {name: {"source": "tfds", "splits": SPLITS} for name in ("mnist", "fashion_mnist", "cifar10")},
    }


def write_records(config: dict, root: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    dirs = []
    for key in grid.run_keys(config):
        spec = grid.run_spec(config, key)
        run_dir = root / key.path
        run_dir.mkdir(parents=True)
        records.write_json_atomic(run_dir / records.METRICS_FILE, {
            "spec": spec.to_dict(), "status": "ok", "reason": None, "n_train": 48000, "n_test": 10000,
            "metrics": {name: float(rng.uniform()) for name in METRIC_NAMES}, "epochs_completed": 5,
            "timing": {"wall": 60.0, "train": 58.0}, "provenance": {"hostname": "bench"},
        })
        dirs.append(run_dir)
    return dirs


AGGREGATE = """
import json, resource, sys, time
from negpen import aggregate
dirs, out = json.load(open(sys.argv[1])), sys.argv[2]
started = time.perf_counter()
aggregate.write_tables(dirs, out, reference_loss="ce_all", loss_order=None, reproduction_split="r0",
                       reproduction_losses=["ce_all", "seed_published", "negpen"])
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def aggregate_in_fresh_process(dirs: list[Path], scratch: Path) -> dict:
    listing = scratch / f"dirs-{len(dirs)}.json"
    listing.write_text(json.dumps([str(d) for d in dirs]))
    done = subprocess.run([sys.executable, "-c", AGGREGATE, str(listing), str(scratch / f"tables-{len(dirs)}")],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2400)
    args = parser.parse_args()
    config = big_config(args.runs)
    n_runs = len(grid.run_keys(config))
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        workdir = workflow_copy(scratch / "wf", with_smoke_data=False)
        (workdir / "config" / "big.yaml").write_text(yaml.safe_dump(config))
        started = time.perf_counter()
        dry = snakemake(workdir, "-n", "--quiet", "all", "--configfile", "config/big.yaml")
        dry_seconds = time.perf_counter() - started
        assert dry.returncode == 0
        print(f"dry run of {n_runs} runs: {dry_seconds:.1f} s")
        dirs = write_records(config, scratch / "records")
        for fraction in (4, 2, 1):
            part = dirs[: len(dirs) // fraction]
            result = aggregate_in_fresh_process(part, scratch)
            print(f"aggregation of {len(part)} records: {result['seconds']:.2f} s, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB")
    print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
