"""The Keras objects of negpen: the loss wrapper and the streaming metrics.

Importing this module imports Keras (and TensorFlow) and registers the classes for Keras
serialization; ``negpen.losses.NegativeSampleLoss`` and ``negpen.metrics.PositiveAccuracy``
etc. are these classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from negpen.losses import spec


@keras.saving.register_keras_serializable(package="negpen")
class NegativeSampleLoss(keras.losses.Loss):
    """Keras wrapper of one registered loss: holds the loss id, the positives and its params."""

    def __init__(
        self,
        loss_id: str,
        positives: Sequence[int],
        num_outputs: int,
        params: dict | None = None,
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        super().__init__(name=name or loss_id, reduction=reduction, dtype=dtype)
        self.loss_id = loss_id
        self.positives = [int(k) for k in positives]
        self.num_outputs = int(num_outputs)
        self.params = dict(params or {})
        loss_spec = spec(loss_id)
        unknown = set(self.params) - set(loss_spec.params)
        if unknown:
            allowed = ", ".join(loss_spec.params) or "none"
            raise ValueError(f"loss {loss_id!r} has no parameter {sorted(unknown)[0]!r} (allowed: {allowed})")
        self._fn = loss_spec.fn
        self._kwargs = dict(self.params)
        if loss_spec.needs_features:
            self._kwargs["num_outputs"] = self.num_outputs

    def call(self, y_true, y_pred):
        return self._fn(y_true, y_pred, self.positives, **self._kwargs)

    def get_config(self):
        return {
            "loss_id": self.loss_id,
            "positives": self.positives,
            "num_outputs": self.num_outputs,
            "params": self.params,
            "reduction": self.reduction,
            "name": self.name,
        }


class _SplitAccuracy(keras.metrics.Metric):
    """Streaming weighted mean of a per-sample indicator over a selected set of samples.

    Subclasses define ``_select(y, yhat, is_pos_label, is_pos_pred)`` returning
    ``(hit, counted)``. ``num_outputs`` (optional) restricts the argmax to the first
    units, for models whose output also carries features (objectosphere).
    """

    def __init__(self, positives: Sequence[int], num_outputs=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.positives = [int(k) for k in positives]
        self.num_outputs = num_outputs
        self.hits = self.add_variable(shape=(), initializer="zeros", name="hits")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.num_outputs is not None:
            y_pred = y_pred[:, : self.num_outputs]
        y = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        yhat = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        pos = ops.convert_to_tensor([self.positives], dtype="int32")
        is_pos_label = ops.any(ops.equal(ops.expand_dims(y, 1), pos), axis=1)
        is_pos_pred = ops.any(ops.equal(ops.expand_dims(yhat, 1), pos), axis=1)
        hit, counted = self._select(y, yhat, is_pos_label, is_pos_pred)
        weight = ops.cast(counted, "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        self.hits.assign_add(ops.sum(ops.cast(hit, "float32") * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.hits, self.count)

    def reset_state(self):
        self.hits.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {"positives": self.positives, "num_outputs": self.num_outputs, "name": self.name}


@keras.saving.register_keras_serializable(package="negpen")
class PositiveAccuracy(_SplitAccuracy):
    """Streaming :func:`negpen.metrics.positive_accuracy` (0 until a positive sample is seen)."""

    def __init__(self, positives, num_outputs=None, name="positive_accuracy", dtype=None):
        super().__init__(positives, num_outputs, name=name, dtype=dtype)

    def _select(self, y, yhat, is_pos_label, is_pos_pred):
        return ops.equal(y, yhat), is_pos_label


@keras.saving.register_keras_serializable(package="negpen")
class NegativeRejection(_SplitAccuracy):
    """Streaming :func:`negpen.metrics.rejection_rate` over every sample whose label is not in ``P``."""

    def __init__(self, positives, num_outputs=None, name="negative_rejection", dtype=None):
        super().__init__(positives, num_outputs, name=name, dtype=dtype)

    def _select(self, y, yhat, is_pos_label, is_pos_pred):
        return ops.logical_not(is_pos_pred), ops.logical_not(is_pos_label)


@keras.saving.register_keras_serializable(package="negpen")
class CombinedAccuracy(_SplitAccuracy):
    """Streaming :func:`negpen.metrics.combined_accuracy`: the notebook's
    ``NegativePenaltySparseCategoricalAccuracy`` accumulated over every batch."""

    def __init__(self, positives, num_outputs=None, name="combined", dtype=None):
        super().__init__(positives, num_outputs, name=name, dtype=dtype)

    def _select(self, y, yhat, is_pos_label, is_pos_pred):
        correct = ops.where(is_pos_label, ops.equal(y, yhat), ops.logical_not(is_pos_pred))
        return correct, ops.ones_like(is_pos_label)
