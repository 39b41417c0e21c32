"""Helpers for tests that run the Snakemake workflow in a scratch copy of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from negpen import datasets, synthetic

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def workflow_copy(tmp_path: Path, with_smoke_data: bool = True) -> Path:
    """The workflow files (Snakefile, workflow/, config/) in ``tmp_path``, plus the smoke data."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "profiles", tmp_path / "profiles")
    if with_smoke_data:
        synthetic.write_idx(tmp_path / "data/smoke/mnist")
        synthetic.write_image_folder(tmp_path / "data/smoke/cifar10",
                                     class_names=datasets.DATASETS["cifar10"].class_names)
    return tmp_path


def snakemake(workdir: Path, *args, check=True, timeout=900) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a Snakemake dry run as ``{rule: count}`` (with ``total``)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Job stats"))
    counts = {}
    for line in lines[start + 3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def write_config(workdir: Path, name: str, config: dict) -> str:
    path = workdir / "config" / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return f"config/{name}"


def load_config(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())
