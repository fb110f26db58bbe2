"""Document cleaners: the seed architecture (named baseline) and the shipped small U-Net; any H x W.

Both read two aligned (H, W, 1) inputs: the scan as it is, and the same page normalised
(``core.documents.normalize``: paper at 1, typical ink at 0), so they see absolute and relative darkness.
"""
from __future__ import annotations

import keras
from keras import layers, ops


def _inputs() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    return keras.Input((None, None, 1), name="scan"), keras.Input((None, None, 1), name="normalized")


def seed_documents() -> keras.Model:
    """The seed design: Conv 64 -> max-pool -> Conv 64 -> up-sample -> Conv 1 sigmoid."""
    scan, normalized = _inputs()
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(layers.Concatenate()([scan, normalized]))
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    x = layers.UpSampling2D(2)(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model([scan, normalized], outputs, name="seed_documents")


def _conv(x, filters: int, n: int = 1):
    for _ in range(n):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def _up(x, filters: int):
    return layers.Conv2DTranspose(filters, 2, strides=2, padding="same", activation="relu")(x)


def unet_documents(width: int = 12, levels: int = 3) -> keras.Model:
    """A U-Net whose first conv is strided (full resolution is only touched at both ends), residual out.

    Level l (1..levels) works at 1/2^l of the resolution with width·2^(l-1) channels; the full-resolution
    inputs are concatenated before the last 3x3 conv so thin strokes stay sharp. The output is the
    normalised page plus a learned correction that starts at zero, so an untrained network returns the
    normalisation. The shipped one has 3 levels (``core.config.DOCUMENT_DOWNSAMPLING`` is 2^3).
    """
    scan, normalized = _inputs()
    inputs = layers.Concatenate()([scan, normalized])
    skips = [_conv(layers.Conv2D(width, 3, strides=2, padding="same", activation="relu")(inputs), width)]  # 1/2
    for level in range(1, levels):
        skips.append(_conv(layers.MaxPooling2D(2)(skips[-1]), width * 2**level, 2))
    x = skips[-1]
    for level in reversed(range(levels - 1)):  # back up to 1/2, one conv at the last level
        filters = width * 2**level
        x = _conv(layers.Concatenate()([_up(x, filters), skips[level]]), filters, 2 if level else 1)
    up = layers.Conv2DTranspose(width // 2, 2, strides=2, padding="same")(x)  # 1/1, linear
    d0 = _conv(layers.Concatenate()([up, inputs]), width // 2)
    # Residual output: a sigmoid output here saturated at white within a few dozen steps and never
    # recovered; core.serving.documents clips the result to [0, 1].
    correction = layers.Conv2D(1, 1, kernel_initializer="zeros")(layers.Concatenate()([d0, up]))
    outputs = layers.Add()([normalized, correction])
    return keras.Model([scan, normalized], outputs, name="unet_documents")


ARCHITECTURES = {"unet": unet_documents, "seed": seed_documents}


@keras.saving.register_keras_serializable(package="core")
class InkWeightedMSE(keras.losses.Loss):
    """Mean of w·(y − ŷ)² with w = ``ink_weight`` where the clean page is ink (< 0.5), else 1; with ``f_weight``,
    plus ``f_weight`` · (1 − soft F-measure of the ink) on patches whose clean page is binary (every pixel 0 or 1).

    Plain MSE returns the conditional mean, so a stroke the model is unsure of comes out light gray and
    vanishes at the 0.5 black & white threshold; with the weight, a pixel is ink once P(ink) > 1/(1 + w).
    The soft F-measure (ink p = 1 − ŷ clipped to [0, 1], truth g = 1 − y: (2·Σpg + 1) / (Σp + Σg + 1)) is the
    contest score without its threshold. Binary targets are the historical pages' ground truth and blank paper
    (synthetic and Kaggle text never is): on a blank patch the term is f_weight · Σp / (Σp + 1), near f_weight once a
    few pixels' worth of gray is left, so it mostly adds a constant to the monitor loss (its tiles hold margins).
    """

    def __init__(self, ink_weight: float = 3.0, f_weight: float = 0.0, name: str = "ink_weighted_mse",
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.ink_weight, self.f_weight = ink_weight, f_weight

    def call(self, y_true, y_pred):
        axes = (1, 2, 3)
        weight = 1.0 + (self.ink_weight - 1.0) * ops.cast(y_true < 0.5, y_pred.dtype)
        loss = ops.mean(weight * ops.square(y_true - y_pred), axis=axes)
        if not self.f_weight:
            return loss
        ink, truth = ops.clip(1.0 - y_pred, 0.0, 1.0), 1.0 - y_true
        # + 1 (one pixel) on both sides, as in the Dice loss: a blank patch left blank scores 1, not 0
        f = (2 * ops.sum(ink * truth, axis=axes) + 1) / (ops.sum(ink, axis=axes) + ops.sum(truth, axis=axes) + 1)
        binary = ops.cast(ops.all((y_true == 0) | (y_true == 1), axis=axes), y_pred.dtype)
        return loss + self.f_weight * binary * (1.0 - f)

    def get_config(self) -> dict:
        return {**super().get_config(), "ink_weight": self.ink_weight, "f_weight": self.f_weight}
