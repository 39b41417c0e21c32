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


def all_run_files(name):
    return [f"{run_dir(key)}/{name}" for key in RUNS]


def all_tables():
    return [f"{RESULTS}/tables/{name}" for name in TABLES]


def all_figures():
    return [f"{RESULTS}/figures/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")]


def training_setting(wildcards, name, default):
    value = config["datasets"][wildcards.dataset].get(name)
    return default if value is None else value
