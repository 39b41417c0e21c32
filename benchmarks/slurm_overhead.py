"""SLURM overhead on the smoke grid, measured side by side in one invocation.

Runs the smoke grid (16 training runs, synthetic data) four times in fresh copies of the
workflow: locally (``--cores 2``), through ``profiles/slurm`` on a single-node SLURM on
localhost (one sbatch job per run, 2 at a time), through the same profile with jobs grouped
(``--groups train=grid --group-components grid=N``: N jobs per sbatch job, each its own
process) and with ``seeds_per_job: 2`` (both seeds of a (split, loss) in one job and one
process). Reports the wall time of each and the SLURM overhead per training run. Needs root (it starts munged/slurmctld/slurmd,
installing Debian's slurm-wlm if missing).

    python benchmarks/slurm_overhead.py [--group-size 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import slurm_cluster  # noqa: E402
from workflow_helpers import load_config, snakemake, workflow_copy, write_config  # noqa: E402

SLURM = ["--profile", "profiles/slurm", "--slurm-status-command", "squeue", "--slurm-no-account",
         "--slurm-init-seconds-before-status-checks", "2", "--jobs", "2"]
RUNS = 16


def timed(workdir: Path, *args) -> float:
    started = time.perf_counter()
    snakemake(workdir, *args, timeout=3600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group-size", type=int, default=2,
                        help="training runs per grouped SLURM job (a group job asks for the CPUs of all its runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        cluster = slurm_cluster.start(scratch / "slurm")
        try:
            import os

            os.environ["SLURM_CONF"] = cluster.env["SLURM_CONF"]
            results = {}
            for name, seeds_per_job, extra in (
                ("local --cores 2", 1, ["--cores", "2"]),
                ("slurm, 1 run per job", 1, SLURM),
                (f"slurm, {args.group_size} jobs per sbatch job (--groups)", 1,
                 SLURM + ["--groups", "train=grid", "--group-components", f"grid={args.group_size}"]),
                ("slurm, seeds_per_job 2", 2, SLURM),
            ):
                workdir = workflow_copy(scratch / f"mode{len(results)}")
                config = load_config("smoke.yaml")
                for settings in config["datasets"].values():
                    settings["seeds_per_job"] = seeds_per_job
                grid = ["--configfile", write_config(workdir, "grid.yaml", config)]
                timed(workdir, "--cores", "2", *grid, "--until", "prepare_data")  # data prep is local in all modes
                results[name] = timed(workdir, *grid, *extra)
                print(f"{name}: {results[name]:.1f} s", flush=True)
        finally:
            cluster.stop()
    local = results["local --cores 2"]
    print("\n| mode | wall s | overhead vs local | per training run |\n|---|---|---|---|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.1f} | {seconds - local:+.1f} s | {(seconds - local) / RUNS * 2:+.2f} s |")


if __name__ == "__main__":
    main()
