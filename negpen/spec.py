"""Run specifications: one (dataset, split, loss, seed) with its training settings.

:class:`RunSpec` is checked by :func:`RunSpec.validate` before any data is read or any
model built; each error names the offending key (the ``negpen run`` option is the same
name with dashes, e.g. ``known_negatives`` ↔ ``--known-negatives``).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from negpen import datasets, losses, models
from negpen.splits import Split

PRECISIONS = ("float32", "mixed_bfloat16")  # Keras dtype policies; mixed: bfloat16 compute, float32 weights
DEFAULT_MODELS = {"mnist": "seed_cnn", "fashion_mnist": "seed_cnn", "cifar10": "cifar_vgg"}


class SpecError(ValueError):
    """Invalid run specification; the message starts with the key at fault."""


@dataclasses.dataclass
class RunSpec:
    dataset: str
    positives: list[int]
    known_negatives: list[int] = dataclasses.field(default_factory=list)
    unknown_negatives: list[int] = dataclasses.field(default_factory=list)
    loss: str = "negpen"
    loss_params: dict = dataclasses.field(default_factory=dict)
    source: str = "tfds"
    data_dir: str | None = None
    prepared: str | None = None
    model: str | None = None
    num_outputs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 2
    seed: int = 0
    threads: int = 0
    limit_train: int | None = None
    limit_test: int | None = None
    validation_fraction: float = 0.0
    precision: str = "float32"
    save_model: bool = False
    tags: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict) -> "RunSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise SpecError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(names))})")
        missing = [n for n in ("dataset", "positives") if values.get(n) is None]
        if missing:
            raise SpecError(f"{missing[0]}: required")
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def model_name(self) -> str:
        return self.model or DEFAULT_MODELS.get(self.dataset, "seed_cnn")

    @property
    def num_classes(self) -> int | None:
        known = datasets.DATASETS.get(self.dataset)
        return known.num_classes if known else None

    def split(self) -> Split:
        try:
            return Split(self.positives, self.known_negatives, self.unknown_negatives, self.num_classes)
        except ValueError as err:
            message = str(err)
            names_a_field = message.split(":")[0] in ("positives", "known_negatives", "unknown_negatives")
            raise SpecError(message if names_a_field else f"split: {message}") from None

    def validate(self) -> "RunSpec":
        """Check everything that can be checked without data; return ``self``."""
        if self.dataset not in datasets.DATASETS and self.source != "image_folder":
            raise SpecError(f"dataset: unknown dataset {self.dataset!r}; known: {', '.join(datasets.DATASETS)}")
        if self.source not in datasets.SOURCES:
            raise SpecError(f"source: unknown data source {self.source!r}; known: {', '.join(datasets.SOURCES)}")
        if self.model_name not in models.MODELS:
            raise SpecError(f"model: unknown model {self.model_name!r}; known: {', '.join(models.MODELS)}")
        for key in ("positives", "known_negatives", "unknown_negatives"):
            if not isinstance(getattr(self, key), (list, tuple)):
                raise SpecError(f"{key}: expected a list of class indices, got {getattr(self, key)!r}")
        split = self.split()
        try:
            loss_spec = losses.spec(self.loss)
        except ValueError as err:
            raise SpecError(f"loss: {err}") from None
        if loss_spec.needs_known_negatives and not split.known_negatives:
            raise SpecError(f"known_negatives: loss {self.loss!r} needs at least one known negative class")
        unknown = sorted(set(self.loss_params) - set(loss_spec.params))
        if unknown:
            raise SpecError(f"loss_params: loss {self.loss!r} has no parameter {unknown[0]!r} "
                            f"(allowed: {', '.join(loss_spec.params) or 'none'})")
        for key, value in self.loss_params.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpecError(f"loss_params: {key}={value!r} is not a finite number")
        self._check_int("num_outputs", minimum=1)
        needed = max(split.all_classes) + 1 if self.num_classes is None else self.num_classes
        if loss_spec.needs_background_unit:
            background = int(self.loss_params.get("background_class", split.background_class))
            if background in split.all_classes or (self.num_classes is not None and background < self.num_classes):
                raise SpecError(f"loss_params: background_class {background} must not be a dataset class")
            needed = max(needed, background + 1)
        if self.num_outputs < needed:
            raise SpecError(f"num_outputs: {self.num_outputs} is too small; this dataset and loss need "
                            f"at least {needed} outputs")
        if self.precision not in PRECISIONS:
            raise SpecError(f"precision: unknown precision {self.precision!r}; known: {', '.join(PRECISIONS)}")
        self._check_int("seed", minimum=0)
        self._check_int("epochs", minimum=1)
        self._check_int("batch_size", minimum=1)
        self._check_int("threads", minimum=0)
        for key in ("limit_train", "limit_test"):
            if getattr(self, key) is not None:
                self._check_int(key, minimum=1)
        for key, low, high in (("learning_rate", 0.0, math.inf), ("validation_fraction", 0.0, 1.0)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpecError(f"{key}: {value!r} is not a finite number")
            if not (low <= value < high) or (key == "learning_rate" and value == 0):
                raise SpecError(f"{key}: {value!r} is out of range")
        if self.prepared is not None:
            if not Path(self.prepared).is_file():
                raise SpecError(f"prepared: {self.prepared}: file not found")
        elif self.source != "tfds":
            if self.data_dir is None:
                raise SpecError(f"data_dir: source {self.source!r} needs a data directory")
            if not Path(self.data_dir).exists():
                raise SpecError(f"data_dir: {self.data_dir}: not found")
        return self

    def _check_int(self, key: str, minimum: int) -> None:
        value = getattr(self, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{key}: {value!r} is not an integer")
        if value < minimum:
            raise SpecError(f"{key}: {value} must be at least {minimum}")
