"""Command line: ``negpen run`` (one benchmark run), ``negpen prepare`` (cache a dataset) and
``negpen synthetic`` (tiny learnable data in the real formats, for smoke runs).

Exit status: 0 for a run with ``status: ok``, 1 for ``status: failed`` (e.g. divergence),
2 for invalid input (one line on stderr naming the option or file).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is first imported

import yaml  # noqa: E402

from negpen import datasets, losses, models  # noqa: E402
from negpen.spec import RunSpec, SpecError  # noqa: E402

EXIT_FAILED_RUN, EXIT_BAD_INPUT = 1, 2


def _int_list(text: str, what: str) -> list[int]:
    """``"0,1,2"`` → ``[0, 1, 2]``; the empty string is the empty list."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}") from None


def _class_list(text: str) -> list[int]:
    return _int_list(text, "class indices")


def _seed_list(text: str) -> list[int]:
    return _int_list(text, "seeds")


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _loss_param(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), _number(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a number") from None


RUN_OPTIONS = [
    # (option, key, argparse kwargs)
    ("--dataset", "dataset", dict(help=f"dataset name ({', '.join(datasets.DATASETS)}; any name with image_folder)")),
    ("--source", "source", dict(choices=datasets.SOURCES, help="where to read the data from (default: tfds)")),
    ("--data-dir", "data_dir", dict(help="data directory (tfds data_dir, canonical files or image folder/archive)")),
    ("--prepared", "prepared", dict(help="prepared .npz written by `negpen prepare` (used instead of --source)")),
    ("--positives", "positives", dict(type=_class_list, help="positive classes, e.g. 0,1,2,3,4,5,6,7")),
    ("--known-negatives", "known_negatives", dict(type=_class_list, help="known negative classes (in training)")),
    ("--unknown-negatives", "unknown_negatives", dict(type=_class_list, help="unknown negatives (test only; may be empty)")),
    ("--loss", "loss", dict(help=f"loss id: {', '.join(losses.LOSS_IDS)} (default: negpen)")),
    ("--model", "model", dict(help=f"model: {', '.join(models.MODELS)} (default: per dataset)")),
    ("--num-outputs", "num_outputs", dict(type=int, help="softmax units (default: 20)")),
    ("--epochs", "epochs", dict(type=int, help="training epochs (default: 2)")),
    ("--batch-size", "batch_size", dict(type=int, help="batch size (default: 64)")),
    ("--learning-rate", "learning_rate", dict(type=float, help="Adam learning rate (default: 1e-3)")),
    ("--seed", "seed", dict(type=int, help="random seed (default: 0)")),
    ("--threads", "threads", dict(type=int, help="TensorFlow intra/inter-op threads (default: 0 = all)")),
    ("--limit-train", "limit_train", dict(type=int, help="class-stratified training subset of N samples")),
    ("--limit-test", "limit_test", dict(type=int, help="class-stratified test subset of N samples")),
    ("--precision", "precision", dict(choices=("float32", "mixed_bfloat16"),
                                      help="float32 (default) or mixed_bfloat16 (bfloat16 compute; fast with AMX)")),
    ("--validation-fraction", "validation_fraction",
     dict(type=float, help="fraction of training data held out for validation (default: 0)")),
]


def _load_config(path: str) -> dict:
    try:
        with open(path) as handle:
            values = yaml.safe_load(handle) or {}
    except OSError as err:
        raise SpecError(f"--config: {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise SpecError(f"--config: {path}: YAML syntax error: {' '.join(str(err).split())}") from None
    if not isinstance(values, dict):
        raise SpecError(f"--config: {path}: expected a mapping of run options")
    return {key.replace("-", "_"): value for key, value in values.items()}


def spec_from_args(args) -> RunSpec:
    """Merge ``--config`` (if any) with the command-line options (which win)."""
    values = _load_config(args.config) if args.config else {}
    for _, key, _ in RUN_OPTIONS:
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.loss_param:
        values["loss_params"] = {**values.get("loss_params", {}), **dict(args.loss_param)}
    if args.save_model:
        values["save_model"] = True
    return RunSpec.from_dict(values)


def _run_parser(sub):
    parser = sub.add_parser(
        "run", help="train and evaluate one (dataset, split, loss, seed) and write its run directory",
        description="Train and evaluate one run (or one per --seeds entry). Writes OUT/metrics.json, OUT/history.csv and "
                    "OUT/scores.npz atomically. Exit 0 if status is ok, 1 if the run failed "
                    "(e.g. the loss diverged), 2 for invalid input.")
    parser.add_argument("--config", help="YAML file with any of the options below (underscored or dashed keys)")
    for option, key, kwargs in RUN_OPTIONS:
        parser.add_argument(option, dest=key, **kwargs)
    parser.add_argument("--loss-param", action="append", type=_loss_param, metavar="KEY=VALUE",
                        help="loss parameter (repeatable): alpha, penalty_scale, background_class, xi, lam")
    parser.add_argument("--save-model", action="store_true", help="also write OUT/model.keras")
    parser.add_argument("--seeds", type=_seed_list, metavar="LIST",
                        help="instead of --seed: train these seeds one after another in this process (one "
                             "TensorFlow start, one data load; each run's results are those of a run of its own); "
                             "--out must contain {seed}")
    parser.add_argument("--out", required=True, help="run directory to write ({seed} is replaced by the seed)")
    return parser


def run_jobs(args) -> list[tuple[RunSpec, Path]]:
    """The ``(spec, out_dir)`` pairs of ``negpen run``: one, or one per ``--seeds`` entry."""
    spec = spec_from_args(args).validate()
    if not args.seeds:
        return [(spec, Path(args.out.replace("{seed}", str(spec.seed))))]
    if args.seed is not None:
        raise SpecError("--seeds: give either --seed or --seeds, not both")
    if "{seed}" not in args.out:
        raise SpecError(f"--out: {args.out!r} must contain {{seed}} when --seeds is given")
    return [(dataclasses.replace(spec, seed=seed), Path(args.out.replace("{seed}", str(seed))))
            for seed in dict.fromkeys(args.seeds)]  # training.run_many validates every spec before training


def _prepare_parser(sub):
    parser = sub.add_parser("prepare", help="load a dataset once and cache it as a checksummed .npz",
                            description="Write OUT (.npz) and OUT's .json record (size, SHA-256).")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--source", choices=datasets.SOURCES, default="tfds")
    parser.add_argument("--data-dir")
    parser.add_argument("--out", required=True)
    return parser


def _synthetic_parser(sub):
    parser = sub.add_parser("synthetic", help="write a small learnable dataset in a real on-disk format",
                            description="For smoke runs and tests: idx (MNIST files), cifar_python "
                                        "(full-size CIFAR-10 batches) or image_folder (32x32 RGB PNGs, CIFAR-10 "
                                        "class names).")
    parser.add_argument("--format", required=True, choices=("idx", "cifar_python", "image_folder"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def _write_synthetic(args) -> None:
    from negpen import synthetic

    if args.format == "idx":
        synthetic.write_idx(args.out, seed=args.seed)
    elif args.format == "cifar_python":
        synthetic.write_cifar_python(args.out, seed=args.seed)
    else:
        synthetic.write_image_folder(args.out, class_names=datasets.DATASETS["cifar10"].class_names, seed=args.seed)
    print(f"{args.out}: synthetic {args.format} data")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="negpen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    _prepare_parser(sub)
    _synthetic_parser(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "synthetic":
            _write_synthetic(args)
            return 0
        if args.command == "prepare":
            record = datasets.prepare(args.dataset, args.source, args.data_dir, args.out)
            print(f"{args.out}: {record['train']} train / {record['test']} test images {record['shape']}")
            return 0
        jobs = run_jobs(args)
        from negpen import training

        results = training.run_many(jobs)
    except (SpecError, datasets.DataError) as err:
        print(f"negpen {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for (_, out_dir), record in zip(jobs, results):
        summary = ", ".join(f"{k}={v:.4f}" for k, v in record["metrics"].items()
                            if k in ("positive_accuracy", "known_rejection", "unknown_rejection", "combined")
                            and v == v)
        print(f"{out_dir}: status={record['status']}" + (f" ({record['reason']})" if record["reason"] else "")
              + (f"; {summary}" if summary else ""))
    return 0 if all(record["status"] == "ok" for record in results) else EXIT_FAILED_RUN


if __name__ == "__main__":
    sys.exit(main())
