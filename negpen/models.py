"""Models. Every model takes raw uint8-range pixels (it rescales by 1/255 itself), ends in
a ``num_outputs``-way softmax (computed in float32 under a mixed-precision policy) and names
its penultimate layer ``features``.

| model | input | parameters (20 outputs) | forward MACs / image |
|---|---|---|---|
| ``seed_cnn`` | 28×28×1 | 99,732 | 2.00 M |
| ``seed_cnn`` | 32×32×3 | 157,364 | 2.94 M |
| ``cifar_vgg`` | 32×32×3 | 307,444 | 38.65 M |

(:func:`describe` computes these; a training step costs about 3× the forward FLOPs,
FLOPs = 2 × MACs.)
"""

from __future__ import annotations

from negpen.lazy import keras, layers

FEATURES_LAYER = "features"


def seed_cnn(input_shape, num_outputs: int) -> keras.Model:
    """The notebook's network: three Conv(3×3, same, ReLU) of 16/32/64 filters, each followed
    by 2×2 max-pooling, then Flatten, Dense 128 ReLU and a Dense softmax."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    outputs = layers.Dense(num_outputs, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="seed_cnn")


def cifar_vgg(input_shape, num_outputs: int) -> keras.Model:
    """A small VGG-style network for 32×32×3: three blocks of two Conv(3×3)+BatchNorm+ReLU
    (32/64/128 filters) each followed by 2×2 max-pooling, global average pooling,
    Dense 128 ReLU and a Dense softmax; random horizontal flips while training."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.RandomFlip("horizontal")(x)
    for filters in (32, 64, 128):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    outputs = layers.Dense(num_outputs, activation="softmax", name="probs", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cifar_vgg")


MODELS = {"seed_cnn": seed_cnn, "cifar_vgg": cifar_vgg}


def build(name: str, input_shape, num_outputs: int, *, with_features: bool = False) -> keras.Model:
    """Build model ``name``. With ``with_features`` the output is ``[p | F(x)]``: the
    softmax followed by the penultimate features (what objectosphere needs)."""
    try:
        model = MODELS[name](input_shape, num_outputs)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
    if with_features:
        features = model.get_layer(FEATURES_LAYER).output
        joined = layers.Concatenate(name="probs_and_features", dtype="float32")([model.output, features])
        model = keras.Model(model.inputs, joined,
                            name=f"{model.name}_with_features")
    return model


def describe(model: keras.Model) -> dict:
    """Parameter count and forward multiply-accumulates per image of Conv2D and Dense layers."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            macs += h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            macs += layer.input.shape[-1] * layer.units
    return {"params": int(model.count_params()), "forward_macs": int(macs)}
