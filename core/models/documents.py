"""Document cleaners: the seed architecture (named baseline) and the shipped small U-Net; any H x W."""
from __future__ import annotations

import keras
from keras import layers

# The U-Net halves the resolution three times, so inputs are padded to multiples of this.
DOWNSAMPLING = 8


def seed_documents() -> keras.Model:
    """The seed design: Conv 64 -> max-pool -> Conv 64 -> up-sample -> Conv 1 sigmoid."""
    inputs = keras.Input((None, None, 1))
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    x = layers.UpSampling2D(2)(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="seed_documents")


def _conv(x, filters: int, n: int = 1):
    for _ in range(n):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def _up(x, filters: int):
    return layers.Conv2DTranspose(filters, 2, strides=2, padding="same", activation="relu")(x)


def unet_documents(width: int = 12) -> keras.Model:
    """A U-Net whose first conv is strided (full resolution is only touched at both ends), residual out.

    Levels: 1/2 (width), 1/4 (2 width), 1/8 (4 width); the full-resolution input is concatenated
    before the last 3x3 conv so thin strokes stay sharp.
    """
    inputs = keras.Input((None, None, 1))
    e1 = _conv(layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inputs), width)  # 1/2
    e2 = _conv(layers.MaxPooling2D(2)(e1), 2 * width, 2)  # 1/4
    bottom = _conv(layers.MaxPooling2D(2)(e2), 4 * width, 2)  # 1/8
    d2 = _conv(layers.Concatenate()([_up(bottom, 2 * width), e2]), 2 * width, 2)  # 1/4
    d1 = _conv(layers.Concatenate()([_up(d2, width), e1]), width)  # 1/2
    up = layers.Conv2DTranspose(width // 2, 2, strides=2, padding="same")(d1)  # 1/1, linear
    d0 = _conv(layers.Concatenate()([up, inputs]), width // 2)
    # Residual output: the scan plus a learned correction. A sigmoid output here saturated at white
    # within a few dozen steps and never recovered; core.clean clips the result to [0, 1].
    correction = layers.Conv2D(1, 1)(layers.Concatenate()([d0, up]))
    outputs = layers.Add()([inputs, correction])
    return keras.Model(inputs, outputs, name="unet_documents")


ARCHITECTURES = {"unet": unet_documents, "seed": seed_documents}
