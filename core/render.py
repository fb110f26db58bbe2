"""Turning float images into pictures: uint8, crisp nearest-neighbour enlargement, print-size resampling, mosaics,
PNG bytes."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float image(s) in [0, 1] (trailing channel of 1 allowed) -> uint8 with the channel dropped."""
    x = np.asarray(image, dtype=np.float32)
    if x.ndim >= 3 and x.shape[-1] == 1:
        x = x[..., 0]
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, scale: int = 8) -> Image.Image:
    """A 2-D image enlarged ``scale`` times with nearest neighbour, so pixels stay crisp."""
    pixels = to_uint8(image)
    h, w = pixels.shape
    return Image.fromarray(pixels, "L").resize((w * scale, h * scale), Image.Resampling.NEAREST)


# How an item is brought to print size (``print_size``): the names the UI offers, each a Pillow filter.
PRINT_METHODS = {"Smooth (Lanczos)": Image.Resampling.LANCZOS,
                 "Pixel art (nearest neighbour)": Image.Resampling.NEAREST}
PRINT_SIZES = (512, 1024, 2048)  # pixels a side


def print_size(image: np.ndarray, size: int = 1024, method: str = "Smooth (Lanczos)") -> Image.Image:
    """A 2-D image resampled to ``size`` × ``size`` pixels by one of PRINT_METHODS: Lanczos (a windowed sinc over
    6×6 source pixels) gives smooth edges instead of blocks; nearest neighbour keeps the pixels, for pixel art."""
    if method not in PRINT_METHODS:
        raise ValueError(f"unknown resampling {method!r}: one of {', '.join(PRINT_METHODS)}")
    source = Image.fromarray(np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0, "F")  # resampled in float
    return Image.fromarray(to_uint8(np.asarray(source.resize((size, size), PRINT_METHODS[method])) / 255.0), "L")


def mosaic(rows: list[np.ndarray], gap: int = 2, fill: float = 1.0) -> np.ndarray:
    """Lay out rows of equally sized images (each row an (N, H, W[, 1]) array) in a grid with gaps."""
    rows = [to_uint8(r).astype(np.float32) / 255.0 for r in rows]
    n = max(len(r) for r in rows)
    h, w = rows[0].shape[1:3]
    grid = np.full((len(rows) * (h + gap) - gap, n * (w + gap) - gap), fill, np.float32)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            grid[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = img
    return grid


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    """Encode a float image in [0, 1] (or a PIL image) as PNG."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(to_uint8(image), "L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
