"""Every loss against a NumPy reference written from the definitions table."""

import keras
import numpy as np
import pytest

from negpen import losses
from negpen.splits import Split

EPS = 1e-7
SPLIT = Split(positives=[0, 1, 2, 3, 4, 5, 6, 7], known_negatives=[8, 9], unknown_negatives=[], num_classes=10)
NUM_OUTPUTS = 20


def keras_ce(t, q):
    q = q / q.sum(axis=-1, keepdims=True)
    q = np.clip(q, EPS, 1 - EPS)
    return -(t * np.log(q)).sum(axis=-1)


def neg_log(p, idx):
    return -np.log(np.clip(p[np.arange(len(p)), idx], EPS, 1 - EPS))


def reference(loss_id, y, out, positives, alpha=1.0, penalty_scale=None, background_class=10, xi=50.0, lam=1e-4):
    """Per-sample loss written from the issue's table."""
    p = out[:, :NUM_OUTPUTS]
    s = len(positives) if penalty_scale is None else penalty_scale
    m = np.zeros(NUM_OUTPUTS)
    m[list(positives)] = 1
    pos = np.isin(y, positives)
    ce = neg_log(p, y)
    if loss_id == "ce_all":
        return ce
    if loss_id in ("seed_published", "positives_only"):
        neg = np.zeros(len(y))
    elif loss_id == "negpen_inverse":
        neg = alpha * 1.0 / keras_ce(m, p) / s
    elif loss_id == "negpen_complement_ce":
        neg = alpha * keras_ce(m, 1 - p) / s
    elif loss_id == "negpen":
        neg = alpha * -(m * np.log(np.clip(1 - p, EPS, 1 - EPS))).sum(axis=1) / s
    elif loss_id == "background":
        neg = neg_log(p, np.full(len(y), background_class))
    elif loss_id in ("entropic", "objectosphere"):
        neg = -(alpha / len(positives)) * (m * np.log(np.clip(p, EPS, 1 - EPS))).sum(axis=1)
    per_sample = np.where(pos, ce, neg)
    if loss_id == "objectosphere":
        norm = np.linalg.norm(out[:, NUM_OUTPUTS:], axis=1)
        per_sample = per_sample + lam * np.where(pos, np.maximum(xi - norm, 0) ** 2, norm**2)
    return per_sample


def random_batch(rng, batch, features=0):
    logits = rng.normal(scale=2.0, size=(batch, NUM_OUTPUTS))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.choice(SPLIT.training_classes, size=batch)
    out = p if not features else np.c_[p, rng.normal(scale=20, size=(batch, features))]
    return y, out.astype(np.float32)


PARAMS = {
    "ce_all": {}, "seed_published": {}, "positives_only": {},
    "negpen_inverse": {"alpha": 0.7, "penalty_scale": 3.0},
    "negpen_complement_ce": {"alpha": 1.3},
    "negpen": {"alpha": 2.0, "penalty_scale": 5.0},
    "background": {"background_class": 12},
    "entropic": {"alpha": 0.5},
    "objectosphere": {"alpha": 1.0, "xi": 30.0, "lam": 1e-3},
}


def test_every_registered_loss_is_tested():
    assert set(PARAMS) == set(losses.LOSS_IDS)


@pytest.mark.parametrize("loss_id", losses.LOSS_IDS)
@pytest.mark.parametrize("batch", [1, 7, 64, 65])
def test_loss_matches_numpy_reference(loss_id, batch):
    rng = np.random.default_rng(batch)
    features = 16 if losses.spec(loss_id).needs_features else 0
    y, out = random_batch(rng, batch, features)
    loss = losses.build(loss_id, num_outputs=NUM_OUTPUTS, split=SPLIT, **PARAMS[loss_id])
    expected = reference(loss_id, y, out, SPLIT.positives, **PARAMS[loss_id])
    np.testing.assert_allclose(float(loss(y, out)), expected.mean(), rtol=2e-5, atol=1e-6)
    weights = rng.uniform(size=batch).astype(np.float32)
    np.testing.assert_allclose(float(loss(y, out, sample_weight=weights)), (expected * weights).sum() / batch,
                               rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("loss_id", losses.LOSS_IDS)
def test_default_params_match_reference(loss_id):
    rng = np.random.default_rng(3)
    features = 16 if losses.spec(loss_id).needs_features else 0
    y, out = random_batch(rng, 33, features)
    loss = losses.build(loss_id, num_outputs=NUM_OUTPUTS, split=SPLIT)
    np.testing.assert_allclose(float(loss(y, out)), reference(loss_id, y, out, SPLIT.positives).mean(), rtol=2e-5)


def test_labels_of_shape_n_by_1_are_accepted():
    rng = np.random.default_rng(0)
    y, out = random_batch(rng, 10)
    loss = losses.build("negpen", num_outputs=NUM_OUTPUTS, split=SPLIT)
    assert float(loss(y[:, None], out)) == pytest.approx(float(loss(y, out)))


def test_option2_is_option3_plus_constant_where_clipping_is_inactive():
    rng = np.random.default_rng(1)
    y, p = random_batch(rng, 50)
    y[:] = 9  # all negatives
    alpha, scale = 1.5, 4.0
    opt2 = losses.negpen_complement_ce(y, p, SPLIT.positives, alpha=alpha, penalty_scale=scale)
    opt3 = losses.negpen(y, p, SPLIT.positives, alpha=alpha, penalty_scale=scale)
    constant = alpha * len(SPLIT.positives) * np.log(NUM_OUTPUTS - 1) / scale
    np.testing.assert_allclose(np.asarray(opt2) - np.asarray(opt3), constant, rtol=1e-5)


def test_seed_published_ignores_negatives_but_counts_them_in_the_mean():
    y = np.array([0, 8, 9, 1])
    p = np.full((4, NUM_OUTPUTS), 1.0 / NUM_OUTPUTS, dtype=np.float32)
    loss = losses.build("seed_published", num_outputs=NUM_OUTPUTS, split=SPLIT)
    assert float(loss(y, p)) == pytest.approx(2 * np.log(NUM_OUTPUTS) / 4, rel=1e-6)


def test_penalty_decreases_when_positive_probabilities_fall():
    loss = losses.build("negpen", num_outputs=NUM_OUTPUTS, split=SPLIT)
    y = np.array([8])
    high = np.zeros((1, NUM_OUTPUTS), np.float32)
    high[0, 0] = 1.0
    low = np.zeros((1, NUM_OUTPUTS), np.float32)
    low[0, 15] = 1.0
    assert float(loss(y, high)) > 1.0 > float(loss(y, low)) >= 0.0


@pytest.mark.parametrize("loss_id", losses.LOSS_IDS)
def test_get_config_round_trips(loss_id):
    loss = losses.build(loss_id, num_outputs=NUM_OUTPUTS, split=SPLIT, **PARAMS[loss_id])
    clone = losses.NegativeSampleLoss.from_config(loss.get_config())
    assert clone.get_config() == loss.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    rng = np.random.default_rng(5)
    y, out = random_batch(rng, 9, 16 if losses.spec(loss_id).needs_features else 0)
    assert float(restored(y, out)) == pytest.approx(float(loss(y, out)), rel=1e-6)


def test_unknown_loss_and_unknown_param_are_refused():
    with pytest.raises(ValueError, match="unknown loss 'negpenn'"):
        losses.build("negpenn", num_outputs=NUM_OUTPUTS, split=SPLIT)
    with pytest.raises(ValueError, match="has no parameter 'beta'"):
        losses.build("negpen", num_outputs=NUM_OUTPUTS, split=SPLIT, beta=1.0)


def test_background_defaults_to_unit_c():
    loss = losses.build("background", num_outputs=NUM_OUTPUTS, split=SPLIT)
    assert loss.params["background_class"] == 10


def test_loss_trains_inside_a_user_model():
    """The README's one-import usage: a Keras model compiled with a negpen loss and metric."""
    from negpen.metrics import CombinedAccuracy

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(NUM_OUTPUTS, activation="softmax")])
    model.compile("adam", loss=losses.NegativeSampleLoss("negpen", positives=range(8), num_outputs=NUM_OUTPUTS),
                  metrics=[CombinedAccuracy(positives=range(8))])
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = np.arange(32) % 10
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and "combined" in history.history
