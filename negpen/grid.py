"""The benchmark grid: a workflow config expanded into runs.

A config (see ``workflow/schemas/config.schema.yaml``) names datasets, each with its
splits and training settings, a set of named losses and a list of seeds. A run is one
``(dataset, split, loss, seed)``; its directory is ``runs/<dataset>/<split>/<loss>/seed<k>``.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from negpen.spec import RunSpec, SpecError

TRAINING_KEYS = ("model", "num_outputs", "epochs", "batch_size", "learning_rate", "limit_train", "limit_test",
                 "validation_fraction", "precision")


@dataclasses.dataclass(frozen=True, order=True)
class RunKey:
    dataset: str
    split: str
    loss: str
    seed: int

    @property
    def path(self) -> str:
        return f"runs/{self.dataset}/{self.split}/{self.loss}/seed{self.seed}"


def run_keys(config: dict) -> list[RunKey]:
    """Every run of the grid, sorted."""
    keys = []
    for dataset, settings in config["datasets"].items():
        for split, loss, seed in itertools.product(settings["splits"], config["losses"], config["seeds"]):
            keys.append(RunKey(dataset, split, loss, int(seed)))
    return sorted(keys)


def split_group(config: dict, dataset: str, split: str) -> str:
    """Splits sharing a group are pooled in summaries (default: the split's own name)."""
    return config["datasets"][dataset]["splits"][split].get("group", split)


def run_spec(config: dict, key: RunKey, prepared: str | Path | None = None, threads: int | None = None) -> RunSpec:
    """The :class:`RunSpec` of one run of the grid."""
    settings = config["datasets"][key.dataset]
    split = settings["splits"][key.split]
    loss = config["losses"][key.loss]
    values = {name: settings[name] for name in TRAINING_KEYS if settings.get(name) is not None}
    values.update(
        dataset=key.dataset, source=settings.get("source", "tfds"), data_dir=settings.get("data_dir"),
        prepared=None if prepared is None else str(prepared),
        positives=list(split["positives"]), known_negatives=list(split.get("known_negatives", [])),
        unknown_negatives=list(split.get("unknown_negatives", [])),
        loss=loss.get("id", key.loss), loss_params=dict(loss.get("params") or {}), seed=key.seed,
        threads=int(config.get("threads", 1) if threads is None else threads),
        tags={"split": key.split, "split_group": split_group(config, key.dataset, key.split), "loss_name": key.loss},
    )
    return RunSpec.from_dict(values)


def validate(config: dict) -> None:
    """Check every run of the grid before anything runs; the error names the config entry."""
    for key in run_keys(config):
        try:
            spec = run_spec(config, key)
            spec.prepared = None
            spec.validate()
        except SpecError as err:
            field = str(err).split(":")[0]
            split_entry = f"datasets.{key.dataset}.splits.{key.split}"
            where = {
                "split": split_entry, "positives": split_entry, "known_negatives": split_entry,
                "unknown_negatives": split_entry, "loss": f"losses.{key.loss}",
                "loss_params": f"losses.{key.loss}.params", "seed": "seeds", "threads": "threads",
            }.get(field, f"datasets.{key.dataset}")
            raise SpecError(f"config {where}: {err}") from None
