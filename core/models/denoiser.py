"""Fashion-MNIST denoisers: the seed architecture (named baseline) and the shipped small U-Net."""
from __future__ import annotations

import keras
from keras import layers, ops

from core.config import IMAGE_SHAPE


def seed_denoiser() -> keras.Model:
    """The seed design: Conv 64/32/16 + max-pool encoder, mirrored up-sampling decoder, sigmoid out."""
    inputs = keras.Input(IMAGE_SHAPE)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D(2, padding="same")(x)  # 14
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)  # 7
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)  # 4
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    x = layers.UpSampling2D(2)(x)  # 8
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.UpSampling2D(2)(x)  # 16
    x = layers.Conv2D(64, 3, activation="relu")(x)  # valid: 14
    x = layers.UpSampling2D(2)(x)  # 28
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="seed_denoiser")


@keras.saving.register_keras_serializable(package="core")
class SaturatedPixels(layers.Layer):
    """Appends two masks to the image: pixels at exactly 0 and at exactly 1."""

    # Salt-and-pepper noise only ever writes 0 or 1; handing the network these masks (also at its last
    # layer, through the skip) lets it tell struck pixels from dark cloth without learning a threshold.
    def call(self, x):
        return ops.concatenate([x, ops.cast(x <= 0.0, x.dtype), ops.cast(x >= 1.0, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3 * input_shape[-1])


@keras.saving.register_keras_serializable(package="core")
def psnr_loss(y_true, y_pred):
    """−PSNR per image in dB (peak 1): 10·log10(MSE + ε); its mean is minus the mean PSNR we report."""
    mse = ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))
    return 10.0 * ops.log10(mse + 1e-5)


def _conv_block(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.Conv2D(filters, 3, padding="same", activation="relu")(x)


def unet_denoiser(width: int = 16) -> keras.Model:
    """A two-level U-Net (28 -> 14 -> 7 and back) with skip connections, sigmoid out."""
    inputs = keras.Input(IMAGE_SHAPE)
    features = SaturatedPixels()(inputs)
    e1 = _conv_block(features, width)  # 28
    e2 = _conv_block(layers.MaxPooling2D(2)(e1), 2 * width)  # 14
    bottom = _conv_block(layers.MaxPooling2D(2)(e2), 4 * width)  # 7
    d2 = layers.Conv2DTranspose(2 * width, 2, strides=2, padding="same")(bottom)
    d2 = _conv_block(layers.Concatenate()([d2, e2]), 2 * width)
    d1 = layers.Conv2DTranspose(width, 2, strides=2, padding="same")(d2)
    d1 = _conv_block(layers.Concatenate()([d1, e1, features]), width)
    outputs = layers.Conv2D(1, 1, activation="sigmoid")(d1)
    return keras.Model(inputs, outputs, name="unet_denoiser")


ARCHITECTURES = {"unet": unet_denoiser, "seed": seed_denoiser}
