"""The denoiser as everything runs it: noise clean items, restore them with the 3×3 median filter and the
autoencoder, and score every row against the clean items (PSNR, SSIM).

The Denoise page, ``python -m core.evaluate denoiser`` (and through it the model cards), the home page's
example and ``bench/denoise.py`` all call :func:`compare`, and name its rows by ``ROWS``. Importing this module
loads no TensorFlow (loading or running a model does), so the row names and cards are cheap to read."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.config import IMAGE_SHAPE, model_exists, model_name
from core.noise import add_noise

if TYPE_CHECKING:
    import keras

NOISY, MEDIAN, MODEL = "noisy input", "median 3×3", "model"
ROWS = (NOISY, MEDIAN, MODEL)  # a comparison's rows, in order; MODEL only when a model is given


def load(architecture: str | None = None) -> keras.Model:
    """The shipped denoiser (or the ``architecture`` baseline, e.g. "seed"), checksum-verified."""
    from core.inference import load_model

    return load_model(model_name("denoiser", architecture))


def available(architecture: str | None = None) -> bool:
    """Whether the weights of that denoiser are on disk."""
    return model_exists(model_name("denoiser", architecture))


def restore(model: keras.Model, noisy: np.ndarray) -> np.ndarray:
    """The model's restoration of a (N, 28, 28, 1) batch, clipped to [0, 1]."""
    from core.inference import run_batched

    return np.clip(run_batched(model, noisy), 0.0, 1.0)


@dataclass(frozen=True)
class Comparison:
    """Images are float32 (N, 28, 28, 1) in [0, 1]; ``psnr``/``ssim`` map each row to per-image scores."""

    clean: np.ndarray
    images: dict[str, np.ndarray]
    psnr: dict[str, np.ndarray]
    ssim: dict[str, np.ndarray]

    def means(self) -> dict[str, dict[str, float]]:
        """Mean PSNR (dB, 2 decimals) and SSIM (4 decimals) per row: the model cards' ``test_metrics`` rows."""
        return {row: {"psnr_db": round(float(np.mean(self.psnr[row])), 2),
                      "ssim": round(float(np.mean(self.ssim[row])), 4)} for row in self.images}


def compare(clean: np.ndarray, kind: str, amount: float, seed: int, model: keras.Model | None = None) -> Comparison:
    """Noise ``clean`` (one item or a batch) with ``kind`` at ``amount`` (seeded), restore it with the median
    filter and, when given, the model; score each row against ``clean``."""
    from core.metrics import median_baseline, psnr, ssim

    clean = np.asarray(clean, dtype=np.float32).reshape(-1, *IMAGE_SHAPE)
    noisy = add_noise(clean, kind, amount, seed)
    images = {NOISY: noisy, MEDIAN: median_baseline(noisy)}
    if model is not None:
        images[MODEL] = restore(model, noisy)
    return Comparison(clean, images, {k: psnr(clean, v) for k, v in images.items()},
                      {k: ssim(clean, v) for k, v in images.items()})
