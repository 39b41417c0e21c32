"""Metrics against references written from their definitions; streaming == NumPy."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from negpen import metrics
from negpen.splits import Split

SPLIT = Split([0, 1, 2, 3, 4, 5], [6, 7], [8, 9], num_classes=10)
P = list(SPLIT.positives)


def sample(rng, n=500, outputs=20):
    y = rng.integers(0, 10, size=n)
    logits = rng.normal(size=(n, outputs))
    logits[np.arange(n), y] += rng.normal(1.5, 1.0, size=n)  # informative but imperfect
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs


def loop_reference(y, probs, split):
    """Sample-by-sample loops, straight from the definitions."""
    yhat = [int(np.argmax(row)) for row in probs]
    pos = [i for i in range(len(y)) if y[i] in split.positives]
    kn = [i for i in range(len(y)) if y[i] in split.known_negatives]
    un = [i for i in range(len(y)) if y[i] in split.unknown_negatives]
    acc = sum(yhat[i] == y[i] for i in pos) / len(pos)
    rej_k = sum(yhat[i] not in split.positives for i in kn) / len(kn)
    rej_u = sum(yhat[i] not in split.positives for i in un) / len(un)
    comb = sum((yhat[i] == y[i]) if y[i] in split.positives else (yhat[i] not in split.positives)
               for i in range(len(y))) / len(y)
    sca = sum(yhat[i] == y[i] for i in range(len(y))) / len(y)
    return dict(positive_accuracy=acc, known_rejection=rej_k, unknown_rejection=rej_u, combined=comb,
                sparse_categorical_accuracy=sca)


def oscr_reference(score_pos, correct, score_neg):
    """Brute force: one threshold per distinct score, rates recounted from scratch."""
    points = [(0.0, 0.0)]
    for tau in sorted(set(score_pos) | set(score_neg), reverse=True):
        ccr = sum(1 for s, c in zip(score_pos, correct) if c and s >= tau) / len(score_pos)
        fpr = sum(1 for s in score_neg if s >= tau) / len(score_neg)
        points.append((fpr, ccr))
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:]))
    return points, area


def test_accuracy_and_rejection_metrics_match_loops():
    y, probs = sample(np.random.default_rng(0))
    got = metrics.evaluate(y, probs, SPLIT)
    for name, value in loop_reference(y, probs, SPLIT).items():
        assert got[name] == pytest.approx(value), name


def test_auroc_fpr95_oscr_match_references():
    y, probs = sample(np.random.default_rng(1), n=400)
    got = metrics.evaluate(y, probs, SPLIT)
    score = probs[:, P].max(axis=1)
    yhat = probs.argmax(axis=1)
    pos = np.isin(y, P)
    for which, classes in (("known", SPLIT.known_negatives), ("unknown", SPLIT.unknown_negatives)):
        neg = np.isin(y, classes)
        labels = np.r_[np.ones(pos.sum()), np.zeros(neg.sum())]
        assert got[f"auroc_{which}"] == pytest.approx(roc_auc_score(labels, np.r_[score[pos], score[neg]]))
        # FPR at 95% TPR: largest tau with at least 95% of positives accepted
        taus = sorted(set(score[pos]), reverse=True)
        tau = next(t for t in taus if np.mean(score[pos] >= t) >= 0.95)
        assert got[f"fpr95_{which}"] == pytest.approx(np.mean(score[neg] >= tau))
        points, area = oscr_reference(list(score[pos]), list(yhat[pos] == y[pos]), list(score[neg]))
        assert got[f"oscr_{which}"] == pytest.approx(area)
        for target in metrics.CCR_FPR_POINTS:
            best = max(c for f, c in points if f <= target)
            assert got[f"ccr_at_fpr{target:g}_{which}"] == pytest.approx(best)


def test_oscr_ties_are_exact():
    # all scores tied: a single diagonal step from (0, 0) to (1, CCR)
    fpr, ccr = metrics.oscr_curve([0.5, 0.5, 0.5, 0.5], [True, True, False, True], [0.5, 0.5])
    assert list(fpr) == [0.0, 1.0] and list(ccr) == [0.0, 0.75]
    assert metrics.oscr_auc([0.5] * 4, [True, True, False, True], [0.5, 0.5]) == pytest.approx(0.375)
    # perfect separation: area = final CCR
    assert metrics.oscr_auc([0.9, 0.8, 0.7], [True, False, True], [0.1, 0.2]) == pytest.approx(2 / 3)


def test_fpr95_hand_computed():
    positives = np.arange(1, 21) / 20.0  # 0.05 .. 1.0; 95% accepted at tau = 0.10
    negatives = np.array([0.05, 0.1, 0.5, 0.99])
    assert metrics.fpr_at_tpr95(positives, negatives) == pytest.approx(0.75)


def test_empty_sets_give_nan():
    split = Split([0, 1], [2], [], num_classes=3)
    y = np.array([0, 1, 2, 2])
    probs = np.eye(3)[[0, 1, 2, 0]]
    got = metrics.evaluate(y, probs, split)
    assert got["known_rejection"] == pytest.approx(0.5)
    for name in ("unknown_rejection", "auroc_unknown", "fpr95_unknown", "oscr_unknown", "ccr_at_fpr0.01_unknown"):
        assert math.isnan(got[name]), name
    assert set(got) == set(metrics.METRIC_NAMES)


def test_custom_score_is_used():
    y, probs = sample(np.random.default_rng(2), n=200)
    reversed_score = -probs[:, P].max(axis=1)
    default = metrics.evaluate(y, probs, SPLIT)
    custom = metrics.evaluate(y, probs, SPLIT, score=reversed_score)
    assert custom["auroc_known"] == pytest.approx(1 - default["auroc_known"])
    assert custom["positive_accuracy"] == default["positive_accuracy"]


def test_evaluate_predictions_recomputes_from_scores_file_contents():
    y, probs = sample(np.random.default_rng(3), n=300)
    score = metrics.default_score(probs, P)
    assert metrics.evaluate_predictions(y, probs.argmax(1), score, SPLIT) == metrics.evaluate(y, probs, SPLIT)


@pytest.mark.parametrize("weighted", [False, True])
def test_streaming_metrics_equal_numpy_over_uneven_batches(weighted):
    rng = np.random.default_rng(4)
    y, probs = sample(rng, n=103)
    weights = rng.uniform(0.1, 2.0, size=len(y)) if weighted else None
    yhat = probs.argmax(axis=1)
    expected = {
        "positive_accuracy": metrics.positive_accuracy(y, yhat, P, weights),
        "negative_rejection": metrics.rejection_rate(y, yhat, P, None, weights),
        "combined": metrics.combined_accuracy(y, yhat, P, weights),
    }
    streaming = [metrics.PositiveAccuracy(P), metrics.NegativeRejection(P), metrics.CombinedAccuracy(P)]
    for metric in streaming:
        metric.update_state(y[:3], probs[:3])  # stale state that reset_state must clear
        metric.reset_state()
        for start in range(0, len(y), 10):  # 10 does not divide 103
            batch = slice(start, start + 10)
            metric.update_state(y[batch], probs[batch].astype("float32"),
                                sample_weight=None if weights is None else weights[batch])
        assert float(metric.result()) == pytest.approx(expected[metric.name], rel=1e-5), metric.name


def test_streaming_metric_ignores_feature_columns():
    y = np.array([0, 6])
    out = np.array([[0.9, 0.1, 0, 0, 0, 0, 0, 0, 100.0], [0.1, 0, 0, 0, 0, 0, 0, 0.9, 100.0]], dtype="float32")
    metric = metrics.CombinedAccuracy(P, num_outputs=8)
    metric.update_state(y, out)
    assert float(metric.result()) == 1.0
