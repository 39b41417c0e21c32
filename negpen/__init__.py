"""negpen: losses, metrics, models, data and the benchmark machinery for training image
classifiers with negative samples. ``import negpen.losses`` / ``negpen.metrics`` are the
entry points for using a loss or metric in one's own Keras model."""

__version__ = "0.1.0"
