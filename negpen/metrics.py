"""Open-set metrics: pure NumPy definitions and the Keras streaming metrics that agree with them.

Notation: ``probs`` is ``(N, num_outputs)``, ``y`` the integer labels, ``P`` the
positive classes, ``yhat = argmax_j p_j`` over *all* outputs (the ``y_pred`` that the
per-metric functions take, as scikit-learn's do); a sample is *rejected*
when ``yhat not in P``. The score ``s(x)`` that ranks samples for the threshold-free
metrics is ``max_{k in P} p_k`` unless the loss defines its own (objectosphere).
Means over an empty set are ``NaN``.
"""

from __future__ import annotations

import math

import numpy as np

CCR_FPR_POINTS = (1e-3, 1e-2, 1e-1)
METRIC_NAMES = tuple(
    ["positive_accuracy", "known_rejection", "unknown_rejection", "combined", "sparse_categorical_accuracy"]
    + [f"{m}_{w}" for w in ("known", "unknown") for m in ("auroc", "fpr95", "oscr")]
    + [f"ccr_at_fpr{t:g}_{w}" for w in ("known", "unknown") for t in CCR_FPR_POINTS]
)


def _weighted_mean(values, mask, sample_weight=None):
    weight = mask.astype(np.float64)
    if sample_weight is not None:
        weight = weight * np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    total = weight.sum()
    return float(np.sum(values * weight) / total) if total > 0 else math.nan


def _labels_and_predictions(y_true, y_pred):
    return np.asarray(y_true).reshape(-1).astype(np.int64), np.asarray(y_pred).reshape(-1).astype(np.int64)


def positive_accuracy(y_true, y_pred, positives, sample_weight=None):
    """Mean over ``y in P`` of ``[yhat == y]``."""
    y, yhat = _labels_and_predictions(y_true, y_pred)
    return _weighted_mean(yhat == y, np.isin(y, positives), sample_weight)


def rejection_rate(y_true, y_pred, positives, negatives=None, sample_weight=None):
    """Mean over the negatives of ``[yhat not in P]``.

    ``negatives`` selects the classes averaged over (known or unknown negatives);
    ``None`` means every class outside ``P``.
    """
    y, yhat = _labels_and_predictions(y_true, y_pred)
    mask = ~np.isin(y, positives) if negatives is None else np.isin(y, negatives)
    return _weighted_mean(~np.isin(yhat, positives), mask, sample_weight)


def combined_accuracy(y_true, y_pred, positives, sample_weight=None):
    """Mean over all samples of ``[y in P ? yhat == y : yhat not in P]``."""
    y, yhat = _labels_and_predictions(y_true, y_pred)
    is_positive = np.isin(y, positives)
    correct = np.where(is_positive, yhat == y, ~np.isin(yhat, positives))
    return _weighted_mean(correct, np.ones_like(correct), sample_weight)


def sparse_categorical_accuracy(y_true, y_pred, sample_weight=None):
    """Mean over all samples of ``[yhat == y]`` (negatives must predict their own label)."""
    y, yhat = _labels_and_predictions(y_true, y_pred)
    correct = yhat == y
    return _weighted_mean(correct, np.ones_like(correct), sample_weight)


def default_score(probs, positives):
    """``s(x) = max_{k in P} p_k``."""
    return np.asarray(probs)[:, list(positives)].max(axis=1)


def auroc(score_positive, score_negative):
    """ROC AUC of the score with positive samples labelled 1 and negatives 0 (scikit-learn)."""
    from sklearn.metrics import roc_auc_score

    if len(score_positive) == 0 or len(score_negative) == 0:
        return math.nan
    labels = np.r_[np.ones(len(score_positive)), np.zeros(len(score_negative))]
    return float(roc_auc_score(labels, np.r_[score_positive, score_negative]))


def fpr_at_tpr95(score_positive, score_negative):
    """Fraction of negatives with ``s >= tau``, ``tau`` the largest threshold accepting at
    least 95% of the positive samples (positives = samples of the known classes ``P``,
    correctly classified or not)."""
    if len(score_positive) == 0 or len(score_negative) == 0:
        return math.nan
    ranked = np.sort(np.asarray(score_positive))[::-1]
    tau = ranked[math.ceil(0.95 * len(ranked)) - 1]
    return float(np.mean(np.asarray(score_negative) >= tau))


def oscr_curve(score_positive, correct_positive, score_negative):
    """Open-set classification rate curve: ``(fpr, ccr)`` over every threshold ``tau``.

    ``CCR(tau) = |{y in P: yhat = y and s >= tau}| / |P-samples|`` and
    ``FPR(tau) = |{negatives: s >= tau}| / |negatives|``. Each distinct score is one
    threshold, so tied scores move both rates at once (exact ties); the curve starts
    at ``(0, 0)`` (``tau = +inf``).
    """
    score_positive = np.asarray(score_positive, dtype=np.float64)
    score_negative = np.asarray(score_negative, dtype=np.float64)
    thresholds = np.unique(np.r_[score_positive, score_negative])[::-1]
    correct_scores = np.sort(score_positive[np.asarray(correct_positive, dtype=bool)])
    negative_scores = np.sort(score_negative)
    # counts of scores >= tau, via searchsorted on ascending arrays
    ccr = (len(correct_scores) - np.searchsorted(correct_scores, thresholds, side="left")) / len(score_positive)
    fpr = (len(negative_scores) - np.searchsorted(negative_scores, thresholds, side="left")) / len(score_negative)
    return np.r_[0.0, fpr], np.r_[0.0, ccr]


def oscr_auc(score_positive, correct_positive, score_negative):
    """Area under the OSCR curve (trapezoidal in FPR; ties are straight segments)."""
    if len(score_positive) == 0 or len(score_negative) == 0:
        return math.nan
    fpr, ccr = oscr_curve(score_positive, correct_positive, score_negative)
    return float(np.trapezoid(ccr, fpr))


def ccr_at_fpr(score_positive, correct_positive, score_negative, fpr_target):
    """Largest ``CCR(tau)`` over thresholds with ``FPR(tau) <= fpr_target``."""
    if len(score_positive) == 0 or len(score_negative) == 0:
        return math.nan
    fpr, ccr = oscr_curve(score_positive, correct_positive, score_negative)
    return float(ccr[fpr <= fpr_target].max())


def evaluate(y_true, probs, split, *, score=None) -> dict:
    """Every metric of the suite for one test set, from the model's ``probs``.

    ``split`` is a :class:`negpen.splits.Split`; ``score`` overrides the default
    ``max_{k in P} p_k``. Returns a flat dict of floats (``NaN`` where a set is empty).
    """
    score = default_score(probs, split.positives) if score is None else score
    return evaluate_predictions(y_true, np.argmax(np.asarray(probs), axis=1), score, split)


def evaluate_predictions(y_true, y_pred, score, split) -> dict:
    """:func:`evaluate` from predicted classes and scores (what a run's ``scores.npz`` holds)."""
    y, yhat = _labels_and_predictions(y_true, y_pred)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    positives = list(split.positives)
    is_positive = np.isin(y, positives)
    score_positive, correct_positive = score[is_positive], (yhat == y)[is_positive]
    result = {
        "positive_accuracy": positive_accuracy(y, yhat, positives),
        "known_rejection": rejection_rate(y, yhat, positives, split.known_negatives),
        "unknown_rejection": rejection_rate(y, yhat, positives, split.unknown_negatives),
        "combined": combined_accuracy(y, yhat, positives),
        "sparse_categorical_accuracy": sparse_categorical_accuracy(y, yhat),
    }
    for which, classes in (("known", split.known_negatives), ("unknown", split.unknown_negatives)):
        score_negative = score[np.isin(y, list(classes))]
        result[f"auroc_{which}"] = auroc(score_positive, score_negative)
        result[f"fpr95_{which}"] = fpr_at_tpr95(score_positive, score_negative)
        result[f"oscr_{which}"] = oscr_auc(score_positive, correct_positive, score_negative)
        for target in CCR_FPR_POINTS:
            result[f"ccr_at_fpr{target:g}_{which}"] = ccr_at_fpr(
                score_positive, correct_positive, score_negative, target
            )
    return result


STREAMING_METRICS = ("PositiveAccuracy", "NegativeRejection", "CombinedAccuracy")


def __getattr__(name):
    """The Keras streaming metrics (defined with Keras in :mod:`negpen.keras_objects`)."""
    if name in STREAMING_METRICS:
        from negpen import keras_objects

        return getattr(keras_objects, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
