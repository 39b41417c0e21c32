"""The Snakemake workflow: lint, exact dry-run job counts, and the smoke grid end to end."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from negpen import losses
from negpen.metrics import METRIC_NAMES
from workflow_helpers import job_counts, load_config, snakemake, workflow_copy, write_config

pytestmark = pytest.mark.slow
TABLES = ["runs.csv", "summary.csv", "summary.md", "summary.tex", "significance.csv", "significance.md",
          "seed_reproduction.csv", "seed_reproduction.md", "failed_runs.csv"]
FIGURES = ["positive_accuracy", "known_rejection", "unknown_rejection", "combined", "auroc_known",
           "auroc_unknown", "tradeoff", "oscr"]


def grid_size(config):
    return sum(len(d["splits"]) for d in config["datasets"].values()) * len(config["losses"]) * len(config["seeds"])


@pytest.mark.parametrize("configfile, training_jobs", [
    # default: MNIST and Fashion-MNIST train their 3 seeds in one job, CIFAR-10 one run per job
    (None, {"train": 4 * 9 * 3, "train_seeds_0_1_2": 2 * 4 * 9}),
    ("config/smoke.yaml", {"train": 2 * 4 * 2}),
    # paper: 5 seeds, 10 losses; MNIST-like seeds in chunks [0, 1, 2] and [3, 4]
    ("config/paper.yaml", {"train": 4 * 10 * 5, "train_seeds_0_1_2": 2 * 4 * 10, "train_seeds_3_4": 2 * 4 * 10}),
])
def test_lint_and_dry_run_job_counts(tmp_path, configfile, training_jobs):
    workdir = workflow_copy(tmp_path)
    args = [] if configfile is None else ["--configfile", configfile]
    if configfile == "config/paper.yaml":
        args = ["--configfile", "config/config.yaml", configfile]
    lint = snakemake(workdir, "--lint", *args, check=False)
    assert lint.returncode == 0 and "Congratulations" in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    counts = job_counts(snakemake(workdir, "-n", *args).stdout)
    config = load_config("config.yaml")
    if configfile == "config/smoke.yaml":
        config = load_config("smoke.yaml")
    elif configfile == "config/paper.yaml":
        paper = load_config("paper.yaml")
        config = {**config, "seeds": paper["seeds"], "losses": {**config["losses"], **paper["losses"]}}
    datasets = len(config["datasets"])
    assert counts == {"prepare_data": datasets, **training_jobs, "aggregate": 1, "plots": 1, "all": 1,
                      "total": sum(training_jobs.values()) + datasets + 3}
    runs_per_job = {"train": 1, "train_seeds_0_1_2": 3, "train_seeds_3_4": 2}
    assert sum(n * runs_per_job[rule] for rule, n in training_jobs.items()) == grid_size(config)


def test_seeds_per_job_groups_the_seeds_of_a_run_into_jobs(tmp_path):
    workdir = workflow_copy(tmp_path)
    config = {**load_config("smoke.yaml"), "seeds": [0, 1, 2]}
    config["datasets"]["mnist"]["seeds_per_job"] = 2
    config["datasets"]["cifar10"]["seeds_per_job"] = 3
    per_dataset = grid_size(config) // 3 // 2  # (split, loss) pairs of one dataset
    args = ["--configfile", write_config(workdir, "grouped.yaml", config)]
    lint = snakemake(workdir, "--lint", *args, check=False)
    assert lint.returncode == 0 and "Congratulations" in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    counts = job_counts(snakemake(workdir, "-n", *args).stdout)
    assert counts == {"prepare_data": 2, "train_seeds_0_1": per_dataset, "train_seeds_2": per_dataset,
                      "train_seeds_0_1_2": per_dataset, "aggregate": 1, "plots": 1, "all": 1,
                      "total": 3 * per_dataset + 5}
    config["datasets"]["cifar10"]["seeds_per_job"] = 1
    counts = job_counts(snakemake(workdir, "-n", "--configfile", write_config(workdir, "mixed.yaml", config)).stdout)
    assert counts["train"] == 3 * per_dataset and counts["train_seeds_0_1"] == per_dataset


def test_default_grid_covers_every_loss_and_the_required_splits():
    config = load_config("config.yaml")
    assert set(config["losses"]) == set(losses.LOSS_IDS)
    assert len(config["seeds"]) >= 3
    assert set(config["datasets"]) == {"mnist", "fashion_mnist", "cifar10"}
    for settings in config["datasets"].values():
        notebook = settings["splits"]["notebook"]
        assert notebook["positives"] == list(range(8)) and notebook["known_negatives"] == [8, 9]
        six_two_two = [s for s in settings["splits"].values()
                       if (len(s["positives"]), len(s["known_negatives"]), len(s["unknown_negatives"])) == (6, 2, 2)]
        assert len(six_two_two) >= 3


def test_smoke_grid_outputs(smoke_run):
    workdir, _ = smoke_run
    results = workdir / "results"
    for name in TABLES:
        assert (results / "tables" / name).stat().st_size > 0, name
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (results / "figures" / f"{name}.{ext}").stat().st_size > 5000, name
    runs = pd.read_csv(results / "tables" / "runs.csv")
    config = load_config("smoke.yaml")
    assert len(runs) == grid_size(config)
    assert not runs.duplicated(["dataset", "split", "loss", "seed"]).any()
    for _, row in runs.iterrows():
        record = json.loads((results / "runs" / row.dataset / row.split / row.loss / f"seed{row.seed}" /
                             "metrics.json").read_text())
        assert record["status"] == row.status == "ok"
        for name in METRIC_NAMES:
            stored, tabled = record["metrics"][name], row[name]
            if stored is None:
                assert math.isnan(tabled), name
            else:
                assert tabled == pytest.approx(stored, rel=1e-5), name
    summary = pd.read_csv(results / "tables" / "summary.csv")
    assert set(summary["split_group"]) == {"notebook", "6-2-2"}
    assert (summary["n"] == 2).all()  # two seeds, one split per group
    significance = pd.read_csv(results / "tables" / "significance.csv")
    assert set(significance["loss"]) == {"negpen"} and set(significance["reference"]) == {"ce_all"}
    reproduction = pd.read_csv(results / "tables" / "seed_reproduction.csv")
    assert set(reproduction["loss"]) == {"ce_all", "negpen"}
    assert len(pd.read_csv(results / "tables" / "failed_runs.csv")) == 0
    timing = pd.read_csv(results / "performance" / "timing.csv")
    assert len(timing) == len(runs) and (timing["train"] > 0).all()


def test_second_invocation_does_nothing(smoke_run):
    workdir, _ = smoke_run
    again = snakemake(workdir, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_adding_a_seed_reruns_only_its_runs(smoke_run):
    workdir, _ = smoke_run
    config = load_config("smoke.yaml")
    config["seeds"] = [0, 1, 2]
    counts = job_counts(snakemake(workdir, "-n", "--configfile", write_config(workdir, "more.yaml", config)).stdout)
    per_seed = grid_size(config) // 3
    assert counts == {"train": per_seed, "aggregate": 1, "plots": 1, "all": 1, "total": per_seed + 3}


def test_figures_target_redraws_without_retraining(smoke_run):
    workdir, _ = smoke_run
    counts = job_counts(snakemake(workdir, "-n", "figures", "--forcerun", "aggregate",
                                  "--configfile", "config/smoke.yaml").stdout)
    assert counts == {"aggregate": 1, "figures": 1, "plots": 1, "total": 3}


def test_html_report(smoke_run):
    workdir, _ = smoke_run
    snakemake(workdir, "--configfile", "config/smoke.yaml", "--report", "results/report.html")
    html = (workdir / "results" / "report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for name in ("oscr.png", "tradeoff.png", "summary.md", "seed_reproduction.csv"):
        assert name in html, name


def test_scores_allow_offline_recomputation(smoke_run):
    workdir, _ = smoke_run
    from negpen import metrics
    from negpen.splits import Split

    run = workdir / "results/runs/mnist/s1/negpen/seed0"
    record = json.loads((run / "metrics.json").read_text())
    with np.load(run / "scores.npz") as scores:
        spec = record["spec"]
        split = Split(spec["positives"], spec["known_negatives"], spec["unknown_negatives"])
        again = metrics.evaluate_predictions(scores["y_true"], scores["y_pred"], scores["score"], split)
    assert again["oscr_unknown"] == pytest.approx(record["metrics"]["oscr_unknown"], rel=1e-6)
