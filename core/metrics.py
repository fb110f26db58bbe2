"""Image-quality metrics (tf.image PSNR/SSIM per image) and the classic median-filter baseline."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from scipy.ndimage import median_filter


def psnr(reference: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of (N, H, W, 1) float images in [0, 1]; inf where identical."""
    return tf.image.psnr(_f32(reference), _f32(images), max_val=1.0).numpy()


def ssim(reference: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Per-image SSIM (tf.image defaults: 11x11 gaussian window) of (N, H, W, 1) images in [0, 1]."""
    return tf.image.ssim(_f32(reference), _f32(images), max_val=1.0).numpy()


def median_baseline(images: np.ndarray, size: int = 3) -> np.ndarray:
    """A size x size median filter applied to each image of an (N, H, W, 1) batch."""
    return median_filter(np.asarray(images, dtype=np.float32), size=(1, size, size, 1), mode="reflect")


def _f32(x: np.ndarray) -> tf.Tensor:
    x = np.asarray(x, dtype=np.float32)
    return tf.convert_to_tensor(x[..., None] if x.ndim == 3 else x)
