"""Figures (seaborn): one per metric, a trade-off scatter and OSCR curves.

Every figure orders losses the same way and gives each loss the same colour, and is
written as PNG and PDF.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from negpen import metrics  # noqa: E402

METRIC_LABELS = {
    "positive_accuracy": "Positive accuracy",
    "known_rejection": "Known-negative rejection",
    "unknown_rejection": "Unknown-negative rejection",
    "combined": "Combined accuracy",
    "auroc_known": "AUROC (positives vs known negatives)",
    "auroc_unknown": "AUROC (positives vs unknown negatives)",
}
DATASET_LABELS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
FPR_GRID = np.logspace(-3, 0, 200)


def loss_palette(loss_order) -> dict:
    """A fixed colour per loss, by its position in ``loss_order``."""
    colours = sns.color_palette("tab10" if len(loss_order) <= 10 else "tab20", len(loss_order))
    return dict(zip(loss_order, colours))


def _save(figure, out_base: Path) -> list[Path]:
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = [out_base.with_suffix(".png"), out_base.with_suffix(".pdf")]
    figure.savefig(paths[0], dpi=150, bbox_inches="tight", metadata={"Software": None})
    figure.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None, "Producer": None})
    plt.close(figure)
    return paths


def _dataset_order(runs: pd.DataFrame) -> list[str]:
    known = [d for d in DATASET_LABELS if d in set(runs["dataset"])]
    return known + sorted(set(runs["dataset"]) - set(known))


def metric_figure(runs: pd.DataFrame, metric: str, loss_order, out_base) -> list[Path]:
    """Bar per loss (mean over seeds × splits, error bar = std), one panel per dataset and split group."""
    data = runs[(runs["status"] == "ok")].dropna(subset=[metric])
    order = [loss for loss in loss_order if loss in set(data["loss"])]
    grid = sns.catplot(data=data, kind="bar", x="loss", y=metric, hue="loss", order=order, hue_order=order,
                       palette=loss_palette(loss_order), col="dataset", col_order=_dataset_order(data),
                       row="split_group", errorbar="sd", height=3.2, aspect=1.3, sharey=True, legend=False)
    grid.set_axis_labels("", METRIC_LABELS.get(metric, metric))
    for (group, dataset), ax in grid.axes_dict.items():
        ax.set_title(f"{DATASET_LABELS.get(dataset, dataset)} · splits {group}")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        ax.set_ylim(0, 1.02)
    grid.figure.suptitle(METRIC_LABELS.get(metric, metric), y=1.02)
    return _save(grid.figure, Path(out_base))


def tradeoff_figure(runs: pd.DataFrame, loss_order, out_base) -> list[Path]:
    """Positive accuracy against unknown-negative rejection: mean ± std per (dataset, loss)."""
    data = runs[(runs["status"] == "ok")].dropna(subset=["unknown_rejection"])
    datasets = _dataset_order(data)
    palette = loss_palette(loss_order)
    figure, axes = plt.subplots(1, max(1, len(datasets)), figsize=(4.2 * max(1, len(datasets)), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = data[data["dataset"] == dataset]
        stats = part.groupby("loss")[["positive_accuracy", "unknown_rejection"]].agg(["mean", "std"])
        for loss in [loss for loss in loss_order if loss in stats.index]:
            row = stats.loc[loss]
            ax.errorbar(row[("unknown_rejection", "mean")], row[("positive_accuracy", "mean")],
                        xerr=row[("unknown_rejection", "std")], yerr=row[("positive_accuracy", "std")],
                        fmt="o", color=palette[loss], label=loss, capsize=3)
        ax.set(title=DATASET_LABELS.get(dataset, dataset), xlabel=METRIC_LABELS["unknown_rejection"],
               ylabel=METRIC_LABELS["positive_accuracy"], xlim=(-0.02, 1.02), ylim=(-0.02, 1.02))
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), title="loss")
    figure.tight_layout()
    return _save(figure, Path(out_base))


def oscr_on_grid(y_true, y_pred, score, positives, negatives, fpr_grid=FPR_GRID) -> np.ndarray:
    """CCR at each FPR of ``fpr_grid`` (best CCR with FPR ≤ grid value) for one run."""
    y_true, y_pred, score = np.asarray(y_true), np.asarray(y_pred), np.asarray(score)
    is_pos, is_neg = np.isin(y_true, positives), np.isin(y_true, negatives)
    fpr, ccr = metrics.oscr_curve(score[is_pos], (y_pred == y_true)[is_pos], score[is_neg])
    best_so_far = np.maximum.accumulate(ccr)  # fpr is non-decreasing along the curve
    return best_so_far[np.searchsorted(fpr, fpr_grid, side="right") - 1]


def oscr_figure(curves: pd.DataFrame, loss_order, out_base) -> list[Path]:
    """Mean OSCR curve (unknown negatives) per loss, one panel per dataset; ``curves`` has columns
    dataset, loss, fpr, ccr with one row per (run, grid point)."""
    datasets = _dataset_order(curves) if not curves.empty else []
    palette = loss_palette(loss_order)
    figure, axes = plt.subplots(1, max(1, len(datasets)), figsize=(4.2 * max(1, len(datasets)), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = curves[curves["dataset"] == dataset]
        for loss in [loss for loss in loss_order if loss in set(part["loss"])]:
            mean = part[part["loss"] == loss].groupby("fpr")["ccr"].mean()
            ax.plot(mean.index, mean.values, color=palette[loss], label=loss)
        ax.set(xscale="log", title=DATASET_LABELS.get(dataset, dataset), ylim=(0, 1.02),
               xlabel="False positive rate (unknown negatives)", ylabel="Correct classification rate")
        ax.grid(alpha=0.3, which="both")
    if datasets:
        handles, labels = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), title="loss")
    else:
        axes[0][0].text(0.5, 0.5, "no split with unknown negatives", ha="center", va="center")
    figure.tight_layout()
    return _save(figure, Path(out_base))


def oscr_curves(runs: pd.DataFrame, runs_root) -> pd.DataFrame:
    """Per-run OSCR curves (unknown negatives) on :data:`FPR_GRID`, from each run's ``scores.npz``."""
    frames = []
    for row in runs[(runs["status"] == "ok") & (runs["unknown_negatives"] != "")].itertuples():
        path = Path(runs_root) / row.dataset / row.split / row.loss / f"seed{row.seed}" / "scores.npz"
        with np.load(path) as scores:
            ccr = oscr_on_grid(scores["y_true"], scores["y_pred"], scores["score"],
                               [int(c) for c in row.positives.split()], [int(c) for c in row.unknown_negatives.split()])
        frames.append(pd.DataFrame({"dataset": row.dataset, "loss": row.loss, "seed": row.seed,
                                    "split": row.split, "fpr": FPR_GRID, "ccr": ccr}))
    columns = ["dataset", "loss", "seed", "split", "fpr", "ccr"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def write_figures(runs_csv, runs_root, out_dir, loss_order) -> list[Path]:
    """Every figure of the suite from ``runs.csv`` and the runs' ``scores.npz``."""
    runs = pd.read_csv(runs_csv, keep_default_na=False, na_values=[""])
    runs["unknown_negatives"] = runs["unknown_negatives"].fillna("").astype(str)
    runs["positives"] = runs["positives"].astype(str)
    out_dir = Path(out_dir)
    paths = []
    for metric in METRIC_LABELS:
        paths += metric_figure(runs, metric, loss_order, out_dir / metric)
    paths += tradeoff_figure(runs, loss_order, out_dir / "tradeoff")
    paths += oscr_figure(oscr_curves(runs, runs_root), loss_order, out_dir / "oscr")
    return paths
