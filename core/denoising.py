"""One denoising comparison: clean -> noisy -> (model, median filter), with PSNR/SSIM for each."""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from core.inference import run_batched
from core.metrics import median_baseline, psnr, ssim
from core.noise import add_noise


@dataclass
class Comparison:
    """Images are float32 (N, 28, 28, 1) in [0, 1]; scores map a method to per-image arrays."""

    clean: np.ndarray
    images: dict[str, np.ndarray]
    psnr: dict[str, np.ndarray]
    ssim: dict[str, np.ndarray]


def compare(clean: np.ndarray, kind: str, amount: float, seed: int, model: keras.Model | None) -> Comparison:
    """Noise ``clean`` and restore it with the median filter and (when given) the model."""
    clean = np.asarray(clean, dtype=np.float32).reshape(-1, 28, 28, 1)
    noisy = add_noise(clean, kind, amount, seed)
    images = {"noisy": noisy, "median 3×3": median_baseline(noisy)}
    if model is not None:
        images["autoencoder"] = np.clip(run_batched(model, noisy), 0.0, 1.0)
    return Comparison(
        clean,
        images,
        {k: psnr(clean, v) for k, v in images.items()},
        {k: ssim(clean, v) for k, v in images.items()},
    )
