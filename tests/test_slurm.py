"""The smoke grid on a real single-node SLURM (localhost) through the SLURM profile."""

import json
import os
import subprocess
import time

import pytest

import slurm_cluster
from workflow_helpers import SNAKEMAKE, load_config, snakemake, workflow_copy, write_config

pytestmark = pytest.mark.slow
# The repository's profile, plus what this accounting-free localhost cluster needs.
SLURM = ["--profile", "profiles/slurm", "--configfile", "config/smoke.yaml", "--slurm-status-command", "squeue",
         "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2", "--jobs", "4"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        cluster = slurm_cluster.start(tmp_path_factory.mktemp("slurm"))
    except slurm_cluster.SlurmUnavailable as err:
        pytest.skip(f"SLURM cannot be installed or started here: {err}")
    os.environ["SLURM_CONF"] = cluster.env["SLURM_CONF"]
    yield cluster
    del os.environ["SLURM_CONF"]
    cluster.stop()
    assert all(process.poll() is not None for process in cluster.processes)


def records(workdir):
    return {path.relative_to(workdir): json.loads(path.read_text())
            for path in sorted((workdir / "results" / "runs").glob("*/*/*/*/metrics.json"))}


def test_smoke_grid_on_slurm_matches_local_run(cluster, smoke_run, tmp_path):
    """CIFAR-10 one run per SLURM job, MNIST both seeds of a (split, loss) per job
    (`seeds_per_job: 2`): the same tables as the local run."""
    local, _ = smoke_run
    workdir = workflow_copy(tmp_path)
    config = load_config("smoke.yaml")
    config["datasets"]["mnist"]["seeds_per_job"] = 2
    snakemake(workdir, *SLURM, "--configfile", write_config(workdir, "grouped.yaml", config))
    runs = records(workdir)
    assert len(runs) == 16
    job_ids = {record["provenance"]["slurm_job_id"] for record in runs.values()}
    assert None not in job_ids and len(job_ids) == 8 + 4
    for path, record in runs.items():
        if record["spec"]["dataset"] == "mnist":  # seed0 and seed1 of a (split, loss) shared a job
            other = path.parent.parent / f"seed{1 - record['spec']['seed']}" / "metrics.json"
            assert runs[other]["provenance"]["slurm_job_id"] == record["provenance"]["slurm_job_id"]
    accounted = cluster.run("squeue", "-h", "-t", "all", "-o", "%i").stdout.split()
    assert job_ids <= set(accounted)
    assert (workdir / "results/tables/runs.csv").read_bytes() == (local / "results/tables/runs.csv").read_bytes()
    assert (workdir / "results/tables/summary.csv").read_bytes() == (local / "results/tables/summary.csv").read_bytes()


def _running_training_job(cluster):
    lines = cluster.run("squeue", "-h", "-t", "RUNNING", "-o", "%i %j %k", check=False).stdout.splitlines()
    for line in lines:
        job_id, *rest = line.split()
        if "train" in " ".join(rest):
            return job_id
    return None


def test_cancelled_job_is_retried(cluster, tmp_path):
    workdir = workflow_copy(tmp_path)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    grid = subprocess.Popen([SNAKEMAKE, *SLURM], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline, victim = time.monotonic() + 300, None
    while victim is None and time.monotonic() < deadline and grid.poll() is None:
        victim = _running_training_job(cluster)
        time.sleep(0.5)
    assert victim, "no training job ever ran on SLURM"
    cluster.run("scancel", victim)
    output, _ = grid.communicate(timeout=900)
    assert grid.returncode == 0, output[-3000:]
    runs = records(workdir)
    assert len(runs) == 16
    assert victim not in {record["provenance"]["slurm_job_id"] for record in runs.values()}
    assert "CANCELLED" in output or "failed" in output.lower()
