"""Interrupted grids resume with nothing lost; runs and tables are reproducible; divergence is recorded."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from workflow_helpers import SNAKEMAKE, load_config, snakemake, workflow_copy, write_config

pytestmark = pytest.mark.slow
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml"]


def tables(workdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((workdir / "results" / "tables").iterdir())}


def start_grid(workdir: Path) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([SNAKEMAKE, *SMOKE], cwd=workdir, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def training_jobs(session: int) -> list[int]:
    """Process ids of running training scripts started by the Snakemake session ``session``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"train.py" in cmdline and os.getsid(int(entry.name)) == session:
                pids.append(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
    return pids


def wait_for(condition, timeout=300, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def completed_runs(workdir: Path) -> int:
    return len(list((workdir / "results" / "runs").glob("*/*/*/*/metrics.json")))


def test_killed_training_job_is_retried_and_tables_are_identical(smoke_run, tmp_path):
    baseline, _ = smoke_run
    workdir = workflow_copy(tmp_path)
    grid = start_grid(workdir)
    victim = wait_for(lambda: training_jobs(grid.pid) and completed_runs(workdir) >= 2 and training_jobs(grid.pid))[0]
    os.kill(victim, signal.SIGKILL)
    assert grid.wait(timeout=900) != 0  # the killed job failed; keep-going finished the rest
    assert completed_runs(workdir) == 15
    resumed = snakemake(workdir, *SMOKE)
    assert "train" in resumed.stdout + resumed.stderr
    assert completed_runs(workdir) == 16
    assert tables(workdir) == tables(baseline)


def test_killed_snakemake_resumes_and_tables_are_identical(smoke_run, tmp_path):
    baseline, _ = smoke_run
    workdir = workflow_copy(tmp_path)
    grid = start_grid(workdir)
    wait_for(lambda: completed_runs(workdir) >= 3 and training_jobs(grid.pid))
    for pid in training_jobs(grid.pid) + [grid.pid]:  # the whole session dies at once, like a lost machine
        os.kill(pid, signal.SIGKILL)
    grid.wait(timeout=60)
    partial = completed_runs(workdir)
    assert 3 <= partial < 16
    snakemake(workdir, "--unlock", "--configfile", "config/smoke.yaml")
    snakemake(workdir, *SMOKE)
    assert completed_runs(workdir) == 16
    assert tables(workdir) == tables(baseline)


def scores(workdir: Path) -> dict[str, bytes]:
    runs = workdir / "results" / "runs"
    return {str(p.relative_to(runs)): p.read_bytes() for p in sorted(runs.rglob("scores.npz"))}


def test_second_grid_with_seeds_sharing_a_process_gives_byte_identical_results(smoke_run, tmp_path):
    """A full second run of the grid, this time with MNIST's `seeds_per_job: 2` (both seeds of a
    (split, loss) in one process) next to CIFAR-10's one run per job: every score file and
    table is byte-identical."""
    baseline, _ = smoke_run
    workdir = workflow_copy(tmp_path)
    config = load_config("smoke.yaml")
    config["datasets"]["mnist"]["seeds_per_job"] = 2
    done = snakemake(workdir, "--cores", "2", "--configfile", write_config(workdir, "grouped.yaml", config))
    assert "train_seeds_0_1" in done.stdout + done.stderr
    assert len(list((workdir / "results/logs/train/mnist").rglob("seed0-1.log"))) == 4
    assert len(list((workdir / "results/logs/train/cifar10").rglob("seed0.log"))) == 4
    assert scores(workdir) == scores(baseline) and len(scores(workdir)) == 16
    assert tables(workdir) == tables(baseline)


def test_diverging_runs_are_listed_and_exit_status_is_configurable(tmp_path):
    workdir = workflow_copy(tmp_path)
    config = load_config("smoke.yaml")
    config["seeds"] = [0]
    for settings in config["datasets"].values():
        settings["splits"].pop("notebook")
    config["datasets"]["mnist"]["learning_rate"] = 1e30  # every MNIST run diverges
    configfile = write_config(workdir, "diverge.yaml", config)
    done = snakemake(workdir, "--cores", "2", "--configfile", configfile)  # default: exit 0
    failed = pd.read_csv(workdir / "results" / "tables" / "failed_runs.csv")
    assert sorted(failed["loss"]) == ["ce_all", "negpen"] and set(failed["dataset"]) == {"mnist"}
    assert failed["reason"].str.contains("non-finite").all()
    runs = pd.read_csv(workdir / "results" / "tables" / "runs.csv")
    assert (runs.loc[runs["dataset"] == "cifar10", "status"] == "ok").all()
    summary = pd.read_csv(workdir / "results" / "tables" / "summary.csv")
    assert set(summary["dataset"]) == {"cifar10"}  # failed runs are not averaged
    config["fail_on_failed_runs"] = True
    strict = snakemake(workdir, "--cores", "2", "--configfile", write_config(workdir, "strict.yaml", config),
                       check=False)
    assert strict.returncode != 0
    assert "2 run(s) failed" in strict.stdout + strict.stderr
    assert "failed" in done.stdout + done.stderr or done.returncode == 0
