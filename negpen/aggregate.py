"""Aggregation of run records into tidy tables (pandas) and paired tests (scipy).

Tables are deterministic functions of the run records: rows are sorted, floats are
written with a fixed precision, and nothing time- or host-dependent enters them
(timings go to a separate file), so two runs of the same grid give byte-identical tables.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from negpen import records
from negpen.metrics import METRIC_NAMES

KEY_COLUMNS = ["dataset", "split", "split_group", "loss", "loss_id", "seed"]
MAIN_METRICS = ["positive_accuracy", "known_rejection", "unknown_rejection", "combined", "auroc_known",
                "auroc_unknown", "oscr_unknown"]
REPRODUCTION_METRICS = ["sparse_categorical_accuracy", "positive_accuracy", "known_rejection", "combined"]
FLOAT_FORMAT = "%.6g"
BOOTSTRAP_RESAMPLES = 9999


class MissingRunsError(RuntimeError):
    """Expected runs without a complete record."""


def _row(record: dict) -> dict:
    spec = record["spec"]
    tags = spec.get("tags", {})
    row = {
        "dataset": spec["dataset"], "split": tags.get("split", ""), "split_group": tags.get("split_group", ""),
        "loss": tags.get("loss_name", spec["loss"]), "loss_id": spec["loss"], "seed": spec["seed"],
        "status": record["status"], "reason": record["reason"] or "",
        "positives": " ".join(map(str, spec["positives"])),
        "known_negatives": " ".join(map(str, spec["known_negatives"])),
        "unknown_negatives": " ".join(map(str, spec["unknown_negatives"])),
        "loss_params": json.dumps(spec["loss_params"], sort_keys=True),
    }
    for name in ("model", "num_outputs", "epochs", "batch_size", "learning_rate", "limit_train", "limit_test",
                 "source"):
        row[name] = spec.get(name)
    row["precision"] = spec.get("precision", "float32")  # records written before the option are float32
    row["n_train"], row["n_test"] = record["n_train"], record["n_test"]
    for name in METRIC_NAMES:
        value = record["metrics"].get(name)
        row[name] = math.nan if value is None else value
    return row


def collect(run_dirs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(runs, timing)`` tables from complete run directories.

    Raises :class:`MissingRunsError` listing every directory without ``metrics.json``.
    """
    run_dirs = [Path(d) for d in run_dirs]
    missing = [str(d) for d in run_dirs if not (d / records.METRICS_FILE).is_file()]
    if missing:
        raise MissingRunsError(f"{len(missing)} expected run(s) have no {records.METRICS_FILE}:\n  "
                               + "\n  ".join(missing))
    rows, timing = [], []
    for run_dir in run_dirs:
        record = records.read_metrics(run_dir)
        row = _row(record)
        rows.append(row)
        timing.append({**{k: row[k] for k in KEY_COLUMNS}, **record["timing"],
                       "hostname": record["provenance"].get("hostname"),
                       "slurm_job_id": record["provenance"].get("slurm_job_id")})
    runs = pd.DataFrame(rows).sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)
    return runs, pd.DataFrame(timing).sort_values(KEY_COLUMNS, kind="stable").reset_index(drop=True)


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"]


def _ci95(values: pd.Series) -> tuple[float, float]:
    n = values.count()
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return values.mean() - half, values.mean() + half


def summary(runs: pd.DataFrame, loss_order=None) -> pd.DataFrame:
    """Per (dataset, split group, loss, metric): mean, std, Student-t 95% CI over seeds × splits, n."""
    rows = []
    for (dataset, group, loss), part in ok_runs(runs).groupby(["dataset", "split_group", "loss"], sort=True):
        for metric in METRIC_NAMES:
            values = part[metric].dropna()
            if values.empty:
                continue
            low, high = _ci95(values)
            rows.append({"dataset": dataset, "split_group": group, "loss": loss, "metric": metric,
                         "mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else math.nan,
                         "ci95_low": low, "ci95_high": high, "n": len(values)})
    table = pd.DataFrame(rows, columns=["dataset", "split_group", "loss", "metric", "mean", "std", "ci95_low",
                                        "ci95_high", "n"])
    return _order_losses(table, loss_order)


def _order_losses(table: pd.DataFrame, loss_order) -> pd.DataFrame:
    if loss_order is None or table.empty:
        return table.reset_index(drop=True)
    rank = {loss: i for i, loss in enumerate(loss_order)}
    table = table.assign(_rank=table["loss"].map(rank))
    other = [c for c in ("dataset", "split_group") if c in table]
    return table.sort_values(other + ["_rank"], kind="stable").drop(columns="_rank").reset_index(drop=True)


def wide_summary(summary_table: pd.DataFrame, metrics=MAIN_METRICS) -> pd.DataFrame:
    """``mean ± std`` strings, one row per (dataset, split group, loss), one column per metric."""
    table = summary_table[summary_table["metric"].isin(metrics)].copy()
    table["value"] = [f"{m:.4f}" + ("" if math.isnan(s) else f" ± {s:.4f}") for m, s in zip(table["mean"], table["std"])]
    wide = table.pivot(index=["dataset", "split_group", "loss"], columns="metric", values="value")
    order = summary_table[["dataset", "split_group", "loss"]].drop_duplicates()
    wide = wide.reindex(pd.MultiIndex.from_frame(order)).reset_index()
    n = summary_table.groupby(["dataset", "split_group", "loss"])["n"].max()
    wide["n"] = [int(n[tuple(k)]) for k in wide[["dataset", "split_group", "loss"]].values]
    return wide[["dataset", "split_group", "loss"] + [m for m in metrics if m in wide] + ["n"]].fillna("–")


def significance(runs: pd.DataFrame, reference: str, metrics=MAIN_METRICS, seed: int = 0) -> pd.DataFrame:
    """Each loss against ``reference``, paired over matched (split, seed) within (dataset, split group):
    Wilcoxon signed-rank p-value (two-sided) and the mean difference with a bootstrap 95% CI."""
    rows = []
    ok = ok_runs(runs)
    for (dataset, group), part in ok.groupby(["dataset", "split_group"], sort=True):
        base = part[part["loss"] == reference].set_index(["split", "seed"])
        for loss in sorted(set(part["loss"]) - {reference}):
            other = part[part["loss"] == loss].set_index(["split", "seed"])
            for metric in metrics:
                pairs = pd.concat([other[metric], base[metric]], axis=1, join="inner", keys=["a", "b"]).dropna()
                if pairs.empty:
                    continue
                diff = (pairs["a"] - pairs["b"]).to_numpy()
                rows.append({"dataset": dataset, "split_group": group, "loss": loss, "reference": reference,
                             "metric": metric, "n_pairs": len(diff), "mean_difference": diff.mean(),
                             **_bootstrap_ci(diff, seed), "wilcoxon_p": _wilcoxon_p(diff)})
    return pd.DataFrame(rows, columns=["dataset", "split_group", "loss", "reference", "metric", "n_pairs",
                                       "mean_difference", "ci95_low", "ci95_high", "wilcoxon_p"])


def _wilcoxon_p(diff: np.ndarray) -> float:
    if len(diff) < 2:
        return math.nan
    if not np.any(diff):
        return 1.0
    return float(stats.wilcoxon(diff, zero_method="zsplit").pvalue)


def _bootstrap_ci(diff: np.ndarray, seed: int) -> dict:
    if len(diff) < 2:
        return {"ci95_low": math.nan, "ci95_high": math.nan}
    if np.all(diff == diff[0]):  # every resample has the same mean
        return {"ci95_low": diff[0], "ci95_high": diff[0]}
    result = stats.bootstrap((diff,), np.mean, confidence_level=0.95, n_resamples=BOOTSTRAP_RESAMPLES,
                             method="percentile", rng=np.random.default_rng(seed))
    return {"ci95_low": result.confidence_interval.low, "ci95_high": result.confidence_interval.high}


def seed_reproduction(runs: pd.DataFrame, split: str, losses) -> pd.DataFrame:
    """The notebook's table: per loss on the notebook split, mean ± std over seeds."""
    part = ok_runs(runs)
    part = part[(part["split"] == split) & part["loss"].isin(losses)]
    rows = []
    for (dataset, loss), group in part.groupby(["dataset", "loss"], sort=True):
        row = {"dataset": dataset, "loss": loss, "n": len(group)}
        for metric in REPRODUCTION_METRICS:
            row[metric] = group[metric].mean()
            row[f"{metric}_std"] = group[metric].std(ddof=1) if len(group) > 1 else math.nan
        rows.append(row)
    columns = ["dataset", "loss", "n"] + [c for m in REPRODUCTION_METRICS for c in (m, f"{m}_std")]
    return _order_losses(pd.DataFrame(rows, columns=columns), list(losses))


def failed_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.loc[runs["status"] != "ok", KEY_COLUMNS + ["reason"]].reset_index(drop=True)


def _markdown(table: pd.DataFrame) -> str:
    return table.to_markdown(index=False, floatfmt=".4f") + "\n"


def write_tables(run_dirs, out_dir, *, reference_loss: str, loss_order, reproduction_split: str,
                 reproduction_losses, timing_path=None) -> dict:
    """Write every table of the suite under ``out_dir``; returns ``{name: DataFrame}``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs, timing = collect(run_dirs)
    summary_table = summary(runs, loss_order)
    wide = wide_summary(summary_table)
    tables = {
        "runs": runs, "summary": summary_table, "significance": significance(runs, reference_loss),
        "seed_reproduction": seed_reproduction(runs, reproduction_split, reproduction_losses),
        "failed_runs": failed_runs(runs),
    }
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False, float_format=FLOAT_FORMAT)
    (out_dir / "summary.md").write_text(_markdown(wide))
    (out_dir / "summary.tex").write_text(wide.to_latex(index=False, escape=True))
    (out_dir / "significance.md").write_text(_markdown(tables["significance"]))
    (out_dir / "seed_reproduction.md").write_text(_markdown(tables["seed_reproduction"]))
    if timing_path is not None:
        Path(timing_path).parent.mkdir(parents=True, exist_ok=True)
        timing.to_csv(timing_path, index=False, float_format=FLOAT_FORMAT)
    return tables
