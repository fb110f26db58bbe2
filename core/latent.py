"""The VAE's latent space for the explorer: embedding file, fast decoding, prior samples, grids, strips, PNGs."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from core.config import CLASS_NAMES, IMAGE_SIZE, LATENT_DIM


class LatentError(ValueError):
    """The embedding file is missing, unreadable or does not fit the shipped encoder."""


@dataclass(frozen=True)
class Embedding:
    """μ (N, 2) of every test item, its label (N,), and the SHA-256 of the encoder that made it."""

    z_mean: np.ndarray
    labels: np.ndarray
    encoder_sha256: str

    def class_indices(self, label: int) -> np.ndarray:
        """Indices of the items of one class, in file order."""
        return np.flatnonzero(self.labels == label)


def encode_means(encoder: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """μ of float32 (N, 28, 28, 1) images, by direct encoder calls."""
    parts = [np.asarray(encoder(images[i : i + batch_size], training=False)[0])
             for i in range(0, len(images), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def save_embedding(path: Path, encoder: keras.Model, images: np.ndarray, labels: np.ndarray,
                   encoder_sha256: str) -> Embedding:
    """Encode ``images`` and store μ, labels and the encoder's checksum as a compressed .npz."""
    embedding = Embedding(encode_means(encoder, images), np.asarray(labels, dtype=np.uint8), encoder_sha256)
    np.savez_compressed(path, z_mean=embedding.z_mean, labels=embedding.labels,
                        encoder_sha256=np.array(encoder_sha256))
    return embedding


def load_embedding(path: Path) -> Embedding:
    """Read and check an embedding file; LatentError with what to do when it is unusable."""
    if not Path(path).is_file():
        raise LatentError(f"embedding file {Path(path).name} is missing: train the VAE with `python -m core.train vae`")
    try:
        with np.load(path, allow_pickle=False) as f:
            z_mean, labels, sha = f["z_mean"], f["labels"], str(f["encoder_sha256"])
    except (OSError, ValueError, KeyError) as e:
        raise LatentError(f"embedding file {Path(path).name} cannot be read ({e}); retrain with "
                          "`python -m core.train vae`") from e
    if z_mean.ndim != 2 or z_mean.shape[1] != LATENT_DIM or len(labels) != len(z_mean):
        raise LatentError(f"embedding file {Path(path).name} has μ of shape {z_mean.shape} and {len(labels)} "
                          f"labels; expected (N, {LATENT_DIM}) and N labels")
    if not np.all(np.isfinite(z_mean)) or labels.size and labels.max() >= len(CLASS_NAMES):
        raise LatentError(f"embedding file {Path(path).name} holds non-finite μ or unknown labels")
    return Embedding(z_mean.astype(np.float32), labels.astype(np.int64), sha)


class LatentDecoder:
    """The shipped decoder behind a traced forward pass: z (N, 2) -> uint8-ready float images (N, 28, 28)."""

    def __init__(self, decoder: keras.Model) -> None:
        self.model = decoder
        # One trace for every batch size: no per-call retracing and none of predict()'s overhead.
        self._forward = tf.function(lambda z: decoder(z, training=False),
                                    input_signature=[tf.TensorSpec((None, LATENT_DIM), tf.float32)])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1, LATENT_DIM)
        if not np.all(np.isfinite(z)):
            raise LatentError("latent coordinates must be finite numbers")
        return self._forward(tf.constant(z)).numpy()[..., 0]

    def one(self, z1: float, z2: float) -> np.ndarray:
        """The (28, 28) item decoded at (z1, z2)."""
        return self(np.array([[z1, z2]]))[0]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Pixel probabilities in [0, 1] -> uint8 grey levels."""
    return np.clip(np.rint(np.asarray(images) * 255.0), 0, 255).astype(np.uint8)


def prior_samples(n: int, seed: int | None = None) -> np.ndarray:
    """n points z ~ N(0, I), shape (n, 2)."""
    return np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype(np.float32)


def interpolate(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points evenly spaced on the segment from z_a to z_b (both ends included)."""
    if steps < 2:
        raise LatentError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1.0 - t) * np.asarray(z_a, np.float32) + t * np.asarray(z_b, np.float32)


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> np.ndarray:
    """n×n grid centres over a view, row-major from the top-left (high z2 first, as on screen): (n*n, 2)."""
    if n < 1:
        raise LatentError("the grid needs at least 1 row")
    (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise LatentError(f"the view {x_range} × {y_range} is empty or not finite")
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def tile(images: np.ndarray, columns: int, gap: int = 0) -> np.ndarray:
    """Lay (N, 28, 28) images out in rows of ``columns`` (the seed's manifold figure), ``gap`` white pixels apart."""
    n = len(images)
    rows = -(-n // columns)
    step = IMAGE_SIZE + gap
    canvas = np.ones((rows * step - gap, columns * step - gap), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * step : r * step + IMAGE_SIZE, c * step : c * step + IMAGE_SIZE] = image
    return canvas


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a 2-D image (crisp pixels, no blur)."""
    return np.kron(np.asarray(image), np.ones((scale, scale), dtype=np.asarray(image).dtype))


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A 2-D image in [0, 1] as 8-bit grey PNG bytes, optionally enlarged ``scale`` times."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(to_uint8(image), scale), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()
