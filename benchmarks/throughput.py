"""Training throughput: negpen's run path against the notebook's pipeline, side by side.

All train ``seed_cnn`` on the same MNIST training set (notebook split: positives 0-7, known
negatives 8-9, 20 outputs, by default the notebook's own loss ``seed_published``) with batch 64
for the same epochs, alternating A/B/C/A/B/C in one process so that machine noise hits all alike. The reference is the
notebook's pipeline re-implemented faithfully: ``tf.data`` map(normalise) → cache →
shuffle(60000) → batch(64, drop_remainder) → prefetch, ``model.fit`` with
``validation_data`` = the test set every epoch. negpen is :func:`negpen.training.train_and_evaluate`,
the function every ``negpen run`` uses, once in float32 (the default) and once with
``precision: mixed_bfloat16``. Also measures the FP32 matrix-multiply peak of this
machine and states the throughput as a fraction of it (seed_cnn needs ~12 MFLOP per
training image: 3 × 2 × 1.996 M MACs).

    python benchmarks/throughput.py --data mnist.npz [--epochs 2 --repeats 3]
    python benchmarks/throughput.py --synthetic --limit 2000 --epochs 1 --repeats 1   # CI's quick version
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from negpen import datasets, losses, metrics, models, synthetic, training  # noqa: E402
from negpen.spec import RunSpec  # noqa: E402
from negpen.splits import Split  # noqa: E402

SPLIT = Split(range(8), [8, 9], [], num_classes=10)


def flop_per_train_image() -> int:
    """Forward + backward ≈ 3 × the forward FLOPs (2 per multiply-accumulate)."""
    return 3 * 2 * models.describe(models.build("seed_cnn", (28, 28, 1), 20))["forward_macs"]


def notebook_pipeline(train, test, epochs: int, seed: int, loss: str, loss_params: dict) -> tuple[float, dict]:
    """The notebook's input pipeline and fit loop (validation on the test set every epoch)."""
    keras.utils.set_random_seed(seed)

    def normalise(x, y):
        return tf.cast(x, tf.float32), y  # the notebook divided by 255 here; seed_cnn rescales itself

    def pipeline(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, y)).map(normalise, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if shuffle:
            ds = ds.shuffle(60000)
        return ds.batch(64, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)

    model = models.build("seed_cnn", train[0].shape[1:], 20)
    model.compile(keras.optimizers.Adam(1e-3), loss=losses.build(loss, num_outputs=20, split=SPLIT, **loss_params),
                  metrics=[metrics.CombinedAccuracy(SPLIT.positives)])
    started = time.perf_counter()
    model.fit(pipeline(*train, True), epochs=epochs, validation_data=pipeline(*test, False), shuffle=False,
              verbose=0)
    seconds = time.perf_counter() - started
    probs = model.predict(test[0], batch_size=256, verbose=0)
    return seconds, metrics.evaluate(test[1], probs, SPLIT)


def negpen_path(precision: str):
    def train(train, test, epochs: int, seed: int, loss: str, loss_params: dict) -> tuple[float, dict]:
        spec = RunSpec(dataset="mnist", positives=list(SPLIT.positives), known_negatives=[8, 9], loss=loss,
                       loss_params=loss_params, epochs=epochs, seed=seed, precision=precision)
        keras.utils.set_random_seed(seed)
        timings = {}
        _, _, _, y_test, y_pred, score, _ = training.train_and_evaluate(spec, (train, test), timings)
        return timings["train"], metrics.evaluate_predictions(y_test, y_pred, score, SPLIT)

    return train


PIPELINES = {"notebook": notebook_pipeline, "negpen float32": negpen_path("float32"),
             "negpen mixed_bfloat16": negpen_path("mixed_bfloat16")}


def matmul_peak_gflops(size: int = 2048, repeats: int = 20) -> float:
    a = tf.random.uniform((size, size))
    b = tf.random.uniform((size, size))
    tf.linalg.matmul(a, b).numpy()
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            c = tf.linalg.matmul(a, b)
        c.numpy()
        best = max(best, 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9)
    return best


def load(args):
    if args.synthetic:
        with tempfile.TemporaryDirectory() as tmp:
            synthetic.write_idx(tmp, n_train=args.limit or 2000, n_test=500)
            train, test = datasets.load("mnist", "files", tmp)
    else:
        train, test = datasets.load_prepared(args.data)
    train, test = SPLIT.apply(train, test)
    keep = training.stratified_subset(train[1], args.limit)
    return (train[0][keep], train[1][keep]), test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="prepared MNIST .npz (negpen prepare)")
    source.add_argument("--synthetic", action="store_true", help="tiny generated MNIST (quick check)")
    parser.add_argument("--limit", type=int, help="training subset size")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads of every pipeline (0: TensorFlow's default, as the notebook ran)")
    parser.add_argument("--loss", default="seed_published", help="loss id (default: the notebook's)")
    parser.add_argument("--loss-param", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    loss_params = {key: float(value) for key, _, value in (item.partition("=") for item in args.loss_param)}
    training.configure_threads(args.threads)
    tf.config.experimental.enable_op_determinism()
    train, test = load(args)
    images = len(train[1]) * args.epochs
    rows = {name: [] for name in PIPELINES}
    for repeat in range(args.repeats):
        for name, train_fn in PIPELINES.items():
            seconds, result = train_fn(train, test, args.epochs, repeat, args.loss, loss_params)
            rows[name].append((images / seconds, result["positive_accuracy"], result["combined"]))
            print(f"repeat {repeat} {name:22s}: {images / seconds:7.0f} images/s, positive accuracy "
                  f"{result['positive_accuracy']:.4f}, combined {result['combined']:.4f}", flush=True)
    peak, flop = matmul_peak_gflops(), flop_per_train_image()
    print(f"\nFP32 matmul peak (2048², tf.linalg.matmul): {peak:.0f} GFLOP/s; loss {args.loss} {loss_params or ''}")
    print("| pipeline | images/s (median) | per repeat | fraction of FP32 peak | positive acc. (mean) | "
          "combined (mean) |\n|---|---|---|---|---|---|")
    for name, values in rows.items():
        speed = np.median([v[0] for v in values])
        print(f"| {name} | {speed:.0f} | {' / '.join(f'{v[0]:.0f}' for v in values)} | "
              f"{speed * flop / 1e9 / peak:.1%} | {np.mean([v[1] for v in values]):.4f} | "
              f"{np.mean([v[2] for v in values]):.4f} |")
    for name in list(PIPELINES)[1:]:
        ratios = [b[0] / a[0] for a, b in zip(rows["notebook"], rows[name])]
        print(f"\nspeed-up {name} / notebook per repeat: {', '.join(f'{r:.2f}×' for r in ratios)} "
              f"(median {np.median(ratios):.2f}×)")


if __name__ == "__main__":
    main()
