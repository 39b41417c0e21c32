"""One benchmark run: train, evaluate and write the run directory.

:func:`run` is what ``negpen run`` and the workflow call; :func:`run_many` runs several in
one process (one TensorFlow start, one data load), each with exactly the results it has on
its own. A run writes, atomically:

- ``metrics.json``: the spec, ``status`` (``ok``/``failed`` + ``reason``), every metric of
  :func:`negpen.metrics.evaluate`, provenance, per-phase seconds, wall and CPU seconds and images/s;
- ``history.csv``: per-epoch loss and streaming metrics;
- ``scores.npz``: ``y_true``, ``y_pred`` and ``score`` of every test sample;
- ``model.keras`` when ``save_model`` is set.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from negpen import datasets, losses, metrics, models, records
from negpen.spec import RunSpec, SpecError

STATUS_OK, STATUS_FAILED = "ok", "failed"
STEPS_PER_EXECUTION = 32  # training steps per compiled call: same updates, fewer Python round trips


def stratified_subset(y, limit: int | None, seed: int = 0) -> np.ndarray:
    """Indices of a deterministic class-stratified subset of ``limit`` samples (sorted).

    Each class keeps ``floor(limit * n_c / N)`` samples, the remainder going to the classes
    with the largest fractional parts; which samples is fixed by ``seed`` (not the run seed,
    so every run of a grid sees the same subset).
    """
    y = np.asarray(y)
    if limit is None or limit >= len(y):
        return np.arange(len(y))
    classes, counts = np.unique(y, return_counts=True)
    exact = limit * counts / len(y)
    quota = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - quota), kind="stable")[: limit - quota.sum()]:
        quota[i] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(y == c))[:q] for c, q in zip(classes, quota)]
    return np.sort(np.concatenate(chosen))


def configure_threads(threads: int) -> int:
    """Set TensorFlow's intra- and inter-op pools (0 keeps TensorFlow's default).

    The pools can only be sized before TensorFlow runs its first op; later calls in the same
    process keep the pools it has (and warn). Returns the effective intra-op size (0 = default).
    """
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            current = tf.config.threading.get_intra_op_parallelism_threads()
            if current != threads:
                warnings.warn(f"threads={threads} ignored: TensorFlow is already initialised in this process "
                              f"with {current or 'default'} threads", RuntimeWarning, stacklevel=2)
    return tf.config.threading.get_intra_op_parallelism_threads()


def _provenance(threads: int) -> dict:
    import negpen

    try:
        git = subprocess.run(["git", "-C", str(Path(negpen.__file__).parent), "rev-parse", "--verify", "-q", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        commit = git.stdout.strip() if git.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "negpen": negpen.__version__, "tensorflow": tf.__version__, "keras": keras.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "git_commit": commit,
        "hostname": socket.gethostname(), "threads": threads, "cpu_count": os.cpu_count(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }


def load_data(spec: RunSpec, cache: dict | None = None):
    """Train and test arrays of the spec's dataset (from the prepared cache when given).

    With ``cache`` (a dict), each dataset is read once and shared by later calls.
    """
    key = (spec.prepared,) if spec.prepared else (spec.dataset, spec.source, spec.data_dir)
    if cache is not None and key in cache:
        return cache[key]
    data = datasets.load_prepared(spec.prepared) if spec.prepared else datasets.load(spec.dataset, spec.source,
                                                                                      spec.data_dir)
    if cache is not None:
        cache[key] = data
    return data


def _check_data(spec: RunSpec, split, y_train, y_test) -> None:
    present = set(np.unique(y_train)) | set(np.unique(y_test))
    where = spec.prepared or spec.data_dir or f"tfds:{spec.dataset}"
    missing = [c for c in split.all_classes if c not in present]
    if missing:
        raise datasets.DataError(f"{where}: split classes {missing} have no samples")
    if max(present) >= spec.num_outputs:
        raise SpecError(f"num_outputs: {spec.num_outputs} is too small for label {max(present)} in {where}")


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build layers under Keras dtype policy ``name`` (e.g. ``mixed_bfloat16``); restores the
    previous global policy afterwards. Layers keep the policy they were built with."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops training at the first non-finite batch loss and remembers where."""

    def __init__(self):
        super().__init__()
        self.reason = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.reason = f"non-finite training loss ({loss}) at epoch {self.epoch + 1}, batch {batch + 1}"
            self.model.stop_training = True


def training_batches(x, y, batch_size: int, seed: int) -> tf.data.Dataset:
    """Batches of the in-memory arrays in a new order every epoch (fixed by ``seed``).

    Built without prefetching, autotuning or parallel map, on a one-thread private pool: with
    every core busy (one training job per core), handing batches over from background
    pipeline threads left each job waiting ~20% of its time (docs/performance.md).
    """
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).with_options(options)


def train_and_evaluate(spec: RunSpec, data, timings: dict):
    """Train on ``data`` (already split and limited) and predict the test set.

    Returns ``(history_rows, status, reason, y_test, y_pred, score, model)``.
    """
    (x_train, y_train), (x_test, y_test) = data
    split = spec.split()
    loss_spec = losses.spec(spec.loss)
    started = time.perf_counter()
    with dtype_policy(spec.precision):
        model = models.build(spec.model_name, x_train.shape[1:], spec.num_outputs,
                             with_features=loss_spec.needs_features)
    width = spec.num_outputs if loss_spec.needs_features else None
    model.compile(
        optimizer=keras.optimizers.Adam(spec.learning_rate),
        loss=losses.build(spec.loss, num_outputs=spec.num_outputs, split=split, **spec.loss_params),
        metrics=[metrics.PositiveAccuracy(split.positives, width), metrics.NegativeRejection(split.positives, width),
                 metrics.CombinedAccuracy(split.positives, width)],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    timings["model_build"] = time.perf_counter() - started

    validation = None
    if spec.validation_fraction:
        order = np.random.default_rng(spec.seed).permutation(len(y_train))
        n_val = max(1, int(round(spec.validation_fraction * len(y_train))))
        val, keep = np.sort(order[:n_val]), np.sort(order[n_val:])
        validation = (x_train[val], y_train[val])
        x_train, y_train = x_train[keep], y_train[keep]

    guard = NonFiniteLossGuard()
    started = time.perf_counter()
    history = model.fit(training_batches(x_train, y_train, spec.batch_size, spec.seed), epochs=spec.epochs,
                        shuffle=False,  # the dataset shuffles itself
                        validation_data=validation, callbacks=[guard],
                        verbose=1 if sys.stdout.isatty() else 0)
    timings["train"] = time.perf_counter() - started
    rows = [{"epoch": i + 1, **{k: float(v[i]) for k, v in history.history.items() if i < len(v)}}
            for i in range(len(history.history.get("loss", [])))]
    if guard.reason is None and rows and not all(math.isfinite(r["loss"]) for r in rows):
        guard.reason = "non-finite training loss"
    if guard.reason is not None:
        return rows, STATUS_FAILED, guard.reason, y_test, None, None, model

    started = time.perf_counter()
    model.steps_per_execution = 1  # Keras unrolls `steps_per_execution` predict steps into one graph: slow to trace
    output = model.predict(x_test, batch_size=max(spec.batch_size, 256), verbose=0)
    probs = output[:, : spec.num_outputs]
    score = metrics.default_score(probs, split.positives)
    if loss_spec.needs_features:
        score = score * np.linalg.norm(output[:, spec.num_outputs:], axis=1)
    y_pred = np.argmax(probs, axis=1)
    timings["predict"] = time.perf_counter() - started
    if not np.all(np.isfinite(probs)):
        return rows, STATUS_FAILED, "non-finite predictions on the test set", y_test, None, None, model
    return rows, STATUS_OK, None, y_test, y_pred, score, model


def run(spec: RunSpec, out_dir, data_cache: dict | None = None) -> dict:
    """Execute one run and write its directory; returns the ``metrics.json`` record.

    Invalid specs raise :class:`SpecError` and bad data :class:`negpen.datasets.DataError`
    before any training. A diverging run is *recorded* as ``status: failed``. ``data_cache``
    shares loaded datasets between runs of one process (see :func:`run_many`).
    """
    spec.validate()
    out_dir = Path(out_dir)
    records.invalidate(out_dir)
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    timings = {}
    threads = configure_threads(spec.threads)
    keras.backend.clear_session()  # a fresh graph, layer names and random state for every run
    keras.utils.set_random_seed(spec.seed)
    tf.config.experimental.enable_op_determinism()

    started = time.perf_counter()
    split = spec.split()
    train, test = load_data(spec, data_cache)
    _check_data(spec, split, train[1], test[1])
    train, test = split.apply(train, test)
    keep_train, keep_test = stratified_subset(train[1], spec.limit_train), stratified_subset(test[1], spec.limit_test)
    if not losses.spec(spec.loss).trains_on_negatives:  # same positive samples as every other loss
        keep_train = keep_train[np.isin(train[1][keep_train], split.positives)]
    train, test = (train[0][keep_train], train[1][keep_train]), (test[0][keep_test], test[1][keep_test])
    timings["data_load"] = time.perf_counter() - started

    rows, status, reason, y_test, y_pred, score, model = train_and_evaluate(spec, (train, test), timings)

    started = time.perf_counter()
    result = metrics.evaluate_predictions(y_test, y_pred, score, split) if status == STATUS_OK else {}
    timings["evaluate"] = timings.pop("predict", 0.0) + time.perf_counter() - started

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    pd.DataFrame(rows).to_csv(tmp_dir / records.HISTORY_FILE, index=False)
    if status == STATUS_OK:
        np.savez(tmp_dir / records.SCORES_FILE, y_true=y_test.astype(np.int16), y_pred=y_pred.astype(np.int16),
                 score=score.astype(np.float32))
    else:
        np.savez(tmp_dir / records.SCORES_FILE, y_true=np.zeros(0, np.int16), y_pred=np.zeros(0, np.int16),
                 score=np.zeros(0, np.float32))
    if spec.save_model:
        model.save(tmp_dir / "model.keras")
    timings["write"] = time.perf_counter() - started
    train_images = len(train[1]) * len(rows)
    record = {
        "spec": spec.to_dict(),
        "status": status,
        "reason": reason,
        "metrics": {name: result.get(name, math.nan) for name in metrics.METRIC_NAMES},
        "n_train": int(len(train[1])),
        "n_test": int(len(test[1])),
        "epochs_completed": len(rows),
        "timing": {**{k: round(v, 4) for k, v in timings.items()},
                   "wall": round(time.perf_counter() - wall_started, 4),
                   "cpu": round(time.process_time() - cpu_started, 4),  # all threads; ≈ wall × threads when busy
                   "train_images_per_s": round(train_images / timings["train"], 1) if timings["train"] else None},
        "provenance": _provenance(threads),
    }
    records.write_json_atomic(tmp_dir / records.METRICS_FILE, record)
    records.move_into_place(tmp_dir, out_dir)
    return record


def run_many(jobs) -> list[dict]:
    """Execute several ``(spec, out_dir)`` runs in this process, in order; returns their records.

    TensorFlow starts once and each dataset is loaded once, which removes the per-process
    start-up from all runs but the first. Every run resets Keras' session and seeds, so its
    record (timings aside) and ``scores.npz`` are identical to a run in a fresh process. All
    specs are validated before the first run trains.
    """
    jobs = [(spec.validate(), Path(out_dir)) for spec, out_dir in jobs]
    if len({spec.threads for spec, _ in jobs}) > 1:
        raise SpecError("threads: runs sharing a process must use the same number of threads")
    data_cache = {}
    return [run(spec, out_dir, data_cache) for spec, out_dir in jobs]
