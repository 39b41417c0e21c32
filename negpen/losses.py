"""Losses for training with negative samples.

Notation (per sample): ``p`` is the softmax output over ``num_outputs`` units, ``y``
the integer label, ``P`` the positive classes, ``m`` the multi-hot vector of ``P``,
``eps = 1e-7`` (Keras' epsilon), ``alpha`` a weight (default 1.0) and ``s`` the
``penalty_scale`` (default ``|P|``). A sample is *positive* when ``y in P`` and
*negative* otherwise (in training that means a known negative). Every positive
sample costs Keras' sparse cross-entropy ``-log p_y`` (``p`` clipped to
``[eps, 1-eps]``); the losses differ in what a negative sample costs.

Each loss is a pure function ``fn(y_true, y_pred, positives, **params)`` returning one
value per sample, registered by id in :data:`REGISTRY`; :class:`NegativeSampleLoss` is the
thin serializable :class:`keras.losses.Loss` around any of them (reduction: Keras' default,
the sample-weighted sum divided by the batch size) and :func:`build` returns it for a loss id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from negpen.lazy import keras, ops

if TYPE_CHECKING:
    from negpen.keras_objects import NegativeSampleLoss

EPSILON = 1e-7


def _labels(y_true):
    return ops.cast(ops.reshape(y_true, (-1,)), "int32")


def _positive_mask(positives: Sequence[int], num_outputs: int):
    """Multi-hot row vector ``m`` of the positive classes, shape ``(1, num_outputs)``."""
    mask = [0.0] * num_outputs
    for k in positives:
        mask[int(k)] = 1.0
    return ops.convert_to_tensor([mask], dtype="float32")


def _is_positive(y, positives):
    return ops.any(ops.equal(ops.expand_dims(y, 1), ops.convert_to_tensor([list(positives)], "int32")), axis=1)


def _cross_entropy(y, y_pred):
    """Keras sparse categorical cross-entropy ``-log clip(p_y, eps, 1-eps)``."""
    return keras.losses.sparse_categorical_crossentropy(y, y_pred)


def _keras_categorical_ce(target, q):
    """Keras CE: ``q`` renormalised to sum 1, clipped to ``[eps, 1-eps]``; ``-sum t log q``."""
    q = q / ops.sum(q, axis=-1, keepdims=True)
    q = ops.clip(q, EPSILON, 1.0 - EPSILON)
    return -ops.sum(target * ops.log(q), axis=-1)


def _split_by_label(y_true, y_pred, positives, negative_cost):
    """``-log p_y`` on positives, ``negative_cost(p)`` on negatives."""
    y_pred = ops.cast(y_pred, "float32")
    y = _labels(y_true)
    positive_cost = _cross_entropy(y, y_pred)
    return ops.where(_is_positive(y, positives), positive_cost, negative_cost(y_pred, y))


def _scale(positives, penalty_scale):
    return float(len(positives) if penalty_scale is None else penalty_scale)


def ce_all(y_true, y_pred, positives=()):
    """Plain cross-entropy ``-log p_y`` on every sample; negatives keep their own label."""
    return _cross_entropy(_labels(y_true), ops.cast(y_pred, "float32"))


def seed_published(y_true, y_pred, positives):
    """The notebook's loss as published: ``-log p_y`` on positives, ``0`` on negatives.

    The notebook computed a penalty and then returned only the positive cross-entropy,
    so negatives cost nothing but still count in the batch mean.
    """
    return _split_by_label(y_true, y_pred, positives, lambda p, y: ops.zeros_like(p[:, 0]))


def positives_only(y_true, y_pred, positives):
    """Closed-set baseline: ``-log p_y`` on positives.

    Negatives are removed from the training set (see :attr:`LossSpec.trains_on_negatives`);
    should one reach the loss anyway it costs ``0``.
    """
    return seed_published(y_true, y_pred, positives)


def negpen_inverse(y_true, y_pred, positives, alpha=1.0, penalty_scale=None):
    """Notebook option 1: negatives cost ``alpha / KerasCE(m, p) / s``."""
    scale = _scale(positives, penalty_scale)

    def cost(p, y):
        m = _positive_mask(positives, p.shape[-1])
        return alpha / _keras_categorical_ce(m, p) / scale

    return _split_by_label(y_true, y_pred, positives, cost)


def negpen_complement_ce(y_true, y_pred, positives, alpha=1.0, penalty_scale=None):
    """Notebook option 2: negatives cost ``alpha * KerasCE(m, 1 - p) / s``.

    Keras renormalises ``1 - p`` (which sums to ``num_outputs - 1``), so without
    clipping this is option 3 plus ``alpha * |P| * log(num_outputs - 1) / s``.
    """
    scale = _scale(positives, penalty_scale)

    def cost(p, y):
        m = _positive_mask(positives, p.shape[-1])
        return alpha * _keras_categorical_ce(m, 1.0 - p) / scale

    return _split_by_label(y_true, y_pred, positives, cost)


def negpen(y_true, y_pred, positives, alpha=1.0, penalty_scale=None):
    """Negative penalty (notebook option 3, corrected): negatives cost
    ``alpha * (-sum_{k in P} log clip(1 - p_k, eps, 1 - eps)) / s``."""
    scale = _scale(positives, penalty_scale)

    def cost(p, y):
        m = _positive_mask(positives, p.shape[-1])
        log_complement = ops.log(ops.clip(1.0 - p, EPSILON, 1.0 - EPSILON))
        return -alpha * ops.sum(m * log_complement, axis=-1) / scale

    return _split_by_label(y_true, y_pred, positives, cost)


def background(y_true, y_pred, positives, background_class):
    """Background class: negatives cost ``-log p_b`` for one extra unit ``b``."""

    def cost(p, y):
        return _cross_entropy(ops.full_like(y, int(background_class)), p)

    return _split_by_label(y_true, y_pred, positives, cost)


def entropic(y_true, y_pred, positives, alpha=1.0):
    """Entropic open-set loss (Dhamija et al. 2018): negatives cost
    ``-(alpha / |P|) * sum_{k in P} log p_k`` (Outlier Exposure is ``alpha = 0.5``)."""

    def cost(p, y):
        m = _positive_mask(positives, p.shape[-1])
        log_p = ops.log(ops.clip(p, EPSILON, 1.0 - EPSILON))
        return -alpha * ops.sum(m * log_p, axis=-1) / len(positives)

    return _split_by_label(y_true, y_pred, positives, cost)


def objectosphere(y_true, y_pred, positives, num_outputs, alpha=1.0, xi=50.0, lam=1e-4):
    """Objectosphere loss (Dhamija et al. 2018): entropic loss plus a feature-magnitude term.

    ``y_pred`` is ``[p | F(x)]``: the ``num_outputs`` softmax units followed by the
    penultimate features ``F(x)``. Positives add ``lam * max(xi - ||F||, 0)^2``,
    negatives add ``lam * ||F||^2``.
    """
    y_pred = ops.cast(y_pred, "float32")
    probs, features = y_pred[:, :num_outputs], y_pred[:, num_outputs:]
    magnitude = ops.sqrt(ops.sum(ops.square(features), axis=-1))
    is_pos = _is_positive(_labels(y_true), positives)
    ring = ops.where(is_pos, ops.square(ops.relu(xi - magnitude)), ops.square(magnitude))
    return entropic(y_true, probs, positives, alpha=alpha) + lam * ring


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """What the training code needs to know about a loss id."""

    fn: Callable
    params: tuple[str, ...] = ()
    needs_known_negatives: bool = False
    trains_on_negatives: bool = True
    needs_features: bool = False
    needs_background_unit: bool = False


_PENALTY = ("alpha", "penalty_scale")
REGISTRY: dict[str, LossSpec] = {
    "ce_all": LossSpec(ce_all),
    "seed_published": LossSpec(seed_published, needs_known_negatives=True),
    "positives_only": LossSpec(positives_only, trains_on_negatives=False),
    "negpen_inverse": LossSpec(negpen_inverse, _PENALTY, needs_known_negatives=True),
    "negpen_complement_ce": LossSpec(negpen_complement_ce, _PENALTY, needs_known_negatives=True),
    "negpen": LossSpec(negpen, _PENALTY, needs_known_negatives=True),
    "background": LossSpec(
        background, ("background_class",), needs_known_negatives=True, needs_background_unit=True
    ),
    "entropic": LossSpec(entropic, ("alpha",), needs_known_negatives=True),
    "objectosphere": LossSpec(
        objectosphere, ("alpha", "xi", "lam"), needs_known_negatives=True, needs_features=True
    ),
}
LOSS_IDS = tuple(REGISTRY)


def spec(loss_id: str) -> LossSpec:
    """The :class:`LossSpec` of ``loss_id``; ``ValueError`` naming the known ids otherwise."""
    try:
        return REGISTRY[loss_id]
    except KeyError:
        raise ValueError(f"unknown loss {loss_id!r}; known: {', '.join(LOSS_IDS)}") from None


def build(loss_id: str, *, num_outputs: int, split, **params) -> NegativeSampleLoss:
    """The Keras loss for ``loss_id`` on ``split`` (a :class:`negpen.splits.Split`).

    ``background_class`` defaults to ``split.background_class`` (the dataset's ``C``).
    """
    from negpen.keras_objects import NegativeSampleLoss

    loss_spec = spec(loss_id)
    if loss_spec.needs_background_unit:
        params.setdefault("background_class", split.background_class)
    return NegativeSampleLoss(loss_id, split.positives, num_outputs, params)


def __getattr__(name):
    """``negpen.losses.NegativeSampleLoss`` (defined with Keras in :mod:`negpen.keras_objects`)."""
    if name == "NegativeSampleLoss":
        from negpen.keras_objects import NegativeSampleLoss

        return NegativeSampleLoss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
