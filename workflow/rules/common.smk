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
    """Name, seeds and datasets of each training rule. Datasets with ``seeds_per_job: 1``
    share `train` (a ``{seed}`` wildcard: one run per job); the others get one rule per
    chunk of seeds, `train_seeds_<seeds>`, shared by the datasets whose chunks include it."""
    seeds = [str(seed) for seed in config["seeds"]]
    rules = {}
    for dataset, settings in config["datasets"].items():
        per_job = settings.get("seeds_per_job", 1)
        chunks = [("{seed}",)] if per_job == 1 else [tuple(seeds[i : i + per_job]) for i in range(0, len(seeds), per_job)]
        for chunk in chunks:
            rules.setdefault(chunk, []).append(dataset)
    return [
        ("train" if chunk == ("{seed}",) else f"train_seeds_{'_'.join(chunk)}", list(chunk), datasets)
        for chunk, datasets in rules.items()
    ]


def run_files(name, seeds):
    """Output pattern of file ``name`` in the run directories of ``seeds`` (values or ``{seed}``)."""
    return [f"{RESULTS}/{grid.RunKey('{dataset}', '{split}', '{loss}', seed).path}/{name}" for seed in seeds]


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
