"""Your own garment on the VAE's map: its point (encoder μ), how well the VAE explains it, the variations
decoded around it and its nearest real test items. The photo's preparation is core.garment's."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.config import IMAGE_SHAPE, LATENT_DIM
from core.serving.vae import Embedding, LatentDecoder, grid_points
from core.serving.vae_prior import LatentPrior, reconstruction_error

if TYPE_CHECKING:
    import keras

VARIATION_GRID = 5  # variations: a 5×5 sheet around the garment's point, the garment in its centre


@dataclass(frozen=True)
class GarmentFit:
    """A prepared garment's point on the map (encoder μ), its reconstruction through the VAE decoder, the
    reconstruction error (1 − SSIM: core.serving.vae_prior) and the share of test items reconstructed better (%)."""

    item: np.ndarray
    z: tuple[float, float]
    reconstruction: np.ndarray
    error: float
    percentile: float
    threshold: float  # the prior's fit threshold
    poor: bool  # error beyond the threshold: the model explains it poorly


class GarmentReader:
    """The VAE's encoder and decoder (Keras, one traced call each) with the prior's error percentiles:
    prepared garment -> GarmentFit."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, prior: LatentPrior) -> None:
        import tensorflow as tf

        self._encode = tf.function(lambda x: encoder(x, training=False)[0],
                                   input_signature=[tf.TensorSpec((None, *IMAGE_SHAPE), tf.float32)])
        self.decoder = LatentDecoder(decoder)
        self.prior = prior

    def __call__(self, item: np.ndarray) -> GarmentFit:
        x = np.asarray(item, np.float32).reshape(1, *IMAGE_SHAPE)
        z = self._encode(x).numpy().reshape(LATENT_DIM)
        reconstruction = self.decoder(z[None])[0]
        error = float(reconstruction_error(x, reconstruction)[0])
        threshold = self.prior.fit_threshold
        return GarmentFit(x[0, ..., 0], (float(z[0]), float(z[1])), reconstruction, error,
                          self.prior.error_percentile(error), threshold, error > threshold)


def variation_points(z: tuple[float, float], spread: float) -> np.ndarray:
    """A VARIATION_GRID² sheet of points spaced evenly within ±spread of z, row-major from the top-left (highest
    z2 first, as on the map); z itself in the middle."""
    half = spread * VARIATION_GRID / (VARIATION_GRID - 1)  # grid_points puts cell centres, not edges, at ±spread
    return grid_points((z[0] - half, z[0] + half), (z[1] - half, z[1] + half), VARIATION_GRID)


def nearest_items(embedding: Embedding, z: tuple[float, float], k: int) -> np.ndarray:
    """The k test items whose μ lies nearest to z, nearest first (test-set indices)."""
    distance = np.sum((embedding.z_mean - np.asarray(z, np.float32)) ** 2, axis=1)
    k = min(k, len(distance))
    nearest = np.argpartition(distance, k - 1)[:k]
    return nearest[np.argsort(distance[nearest], kind="stable")]
