# Input functions, wildcard constraints and the validated grid.
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from negpen import grid

grid.validate(config)  # every run of the grid is checked before any job starts

RUNS = grid.run_keys(config)
RESULTS = "results"
TABLES = ["runs.csv", "summary.csv", "summary.md", "summary.tex", "significance.csv", "significance.md",
          "seed_reproduction.csv", "seed_reproduction.md", "failed_runs.csv"]
METRIC_FIGURES = ["positive_accuracy", "known_rejection", "unknown_rejection", "combined", "auroc_known",
                  "auroc_unknown"]
FIGURES = METRIC_FIGURES + ["tradeoff", "oscr"]


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    loss="|".join(config["losses"]),
    split="[A-Za-z0-9_-]+",
    seed=r"\d+",


def run_dir(key):
    return f"{RESULTS}/{key.path}"


def train_rules():
    """Name and seeds of each training rule. ``seeds_per_job`` 1: `train` with a ``{seed}``
    wildcard; k > 1: one rule per chunk of k seeds (named `train` if there is one chunk)."""
    per_job = config.get("seeds_per_job", 1)
    if per_job == 1:
        return [("train", ["{seed}"])]
    seeds = [str(seed) for seed in config["seeds"]]
    chunks = [seeds[start : start + per_job] for start in range(0, len(seeds), per_job)]
    if len(chunks) == 1:
        return [("train", chunks[0])]
    return [(f"train_seeds_{'_'.join(chunk)}", chunk) for chunk in chunks]


def run_files(name, seeds):
    """Output pattern of file ``name`` in the run directories of ``seeds`` (values or ``{seed}``)."""
    return [f"{RESULTS}/runs/{{dataset}}/{{split}}/{{loss}}/seed{seed}/{name}" for seed in seeds]


def job_runs(wildcards, seeds):
    """The RunKeys a training job trains."""
    return [
        grid.RunKey(wildcards.dataset, wildcards.split, wildcards.loss, int(wildcards.get("seed", seed)))
        for seed in seeds
    ]


def all_run_files(name):
    return [f"{run_dir(key)}/{name}" for key in RUNS]


def all_tables():
    return [f"{RESULTS}/tables/{name}" for name in TABLES]


def all_figures():
    return [f"{RESULTS}/figures/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")]


def training_setting(wildcards, name, default):
    value = config["datasets"][wildcards.dataset].get(name)
    return default if value is None else value
