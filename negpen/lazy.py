"""Deferred Keras imports.

Importing Keras starts TensorFlow (about 5 s and 600 MB). Config validation, aggregation,
plotting and every Snakemake job start-up import ``negpen.losses``/``metrics``/``models``
for their registries and NumPy code only, so those modules reach Keras through these
proxies, which import it on first attribute access.
"""

from __future__ import annotations

import importlib


class LazyModule:
    """Stands in for a module; the first attribute access imports it."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)


keras = LazyModule("keras")
ops = LazyModule("keras.ops")
layers = LazyModule("keras.layers")
