"""Class splits: positives ``P``, known negatives ``Nk`` and unknown negatives ``Nu``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np


def _classes(values: Iterable, role: str) -> tuple[int, ...]:
    out = []
    for value in values:
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"{role}: class {value!r} is not an integer")
        out.append(int(value))
    if len(set(out)) != len(out):
        raise ValueError(f"{role}: repeated class in {out}")
    return tuple(sorted(out))


@dataclasses.dataclass(frozen=True)
class Split:
    """Three disjoint class sets of a dataset with ``num_classes`` classes.

    Training data is ``P ∪ Nk`` (unknown negatives never reach training); test data is
    ``P ∪ Nk ∪ Nu``. Classes in none of the sets are dropped. ``num_classes`` (the
    dataset's ``C``) is optional; when given, every class must lie in ``0..C-1``.
    """

    positives: tuple[int, ...]
    known_negatives: tuple[int, ...] = ()
    unknown_negatives: tuple[int, ...] = ()
    num_classes: int | None = None

    def __post_init__(self):
        for field in ("positives", "known_negatives", "unknown_negatives"):
            object.__setattr__(self, field, _classes(getattr(self, field), field))
        if not self.positives:
            raise ValueError("positives: at least one positive class is required")
        sets = {"positives": self.positives, "known_negatives": self.known_negatives,
                "unknown_negatives": self.unknown_negatives}
        names = list(sets)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                common = set(sets[a]) & set(sets[b])
                if common:
                    raise ValueError(f"{a} and {b} overlap: class {sorted(common)} in both")
        low = min(self.all_classes)
        if low < 0:
            raise ValueError(f"class {low} is negative")
        if self.num_classes is not None:
            high = max(self.all_classes)
            if high >= self.num_classes:
                raise ValueError(f"class {high} is outside the dataset's classes 0..{self.num_classes - 1}")

    @property
    def training_classes(self) -> tuple[int, ...]:
        return tuple(sorted(self.positives + self.known_negatives))

    @property
    def all_classes(self) -> tuple[int, ...]:
        return tuple(sorted(self.positives + self.known_negatives + self.unknown_negatives))

    @property
    def background_class(self) -> int:
        """Default background unit: ``C`` when known, otherwise one past the largest class."""
        return self.num_classes if self.num_classes is not None else max(self.all_classes) + 1

    def train_mask(self, y) -> np.ndarray:
        return np.isin(np.asarray(y), self.training_classes)

    def test_mask(self, y) -> np.ndarray:
        return np.isin(np.asarray(y), self.all_classes)

    def apply(self, train, test):
        """Filter ``(x, y)`` pairs: training keeps ``P ∪ Nk``, test keeps ``P ∪ Nk ∪ Nu``."""
        (x_train, y_train), (x_test, y_test) = train, test
        keep, test_keep = self.train_mask(y_train), self.test_mask(y_test)
        return (x_train[keep], y_train[keep]), (x_test[test_keep], y_test[test_keep])

    def to_dict(self) -> dict:
        return {"positives": list(self.positives), "known_negatives": list(self.known_negatives),
                "unknown_negatives": list(self.unknown_negatives)}
