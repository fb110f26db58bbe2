"""Scan-like degradation of clean pages: augraphy's document effects plus coffee rings, creases and uneven light.

Everything is photometric, so the degraded page stays pixel-aligned with its clean page. Augraphy's
geometric effects (Folding, PageCurl, Geometric, BookBinding) would break that alignment and are left
out; Scribbles crashes in augraphy 8.2.6 (``matplotlib.font_manager`` is not imported) and is left out.
"""
from __future__ import annotations

import atexit
import importlib.util
import io
import random
import shutil
import tempfile
import warnings
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from core.render import to_uint8

# (probability, augraphy class name, keyword arguments); applied in this order.
AUGRAPHY_STEPS: tuple[tuple[float, str, dict], ...] = (
    (0.35, "InkBleed", {}),
    (0.25, "LowInkRandomLines", {}),
    (0.2, "LowInkPeriodicLines", {}),
    (0.2, "InkMottling", {}),
    (0.3, "BleedThrough", {}),
    (0.4, "NoiseTexturize", {}),
    (0.4, "BrightnessTexturize", {}),
    (0.3, "SubtleNoise", {}),
    (0.4, "Stains", {}),
    (0.2, "DirtyDrum", {}),
    (0.1, "BadPhotoCopy", {}),
    (0.12, "ShadowCast", {}),
    (0.25, "LightingGradient", {}),
)
JPEG_PROBABILITY = 0.4
# ``camera``: a defocus blur of up to this sigma (px), sensor noise of up to this sigma, JPEG half the time.
CAMERA_BLUR, CAMERA_NOISE, CAMERA_JPEG = 1.5, 0.05, (40, 95)
# ``sensor_noise``: Gaussian noise alone (no blur, no JPEG), its sigma drawn from this range (gray levels of 1).
SENSOR_NOISE = (0.01, 0.03)
# ``bleed_through``: the ghost's darkest point as a share of the way from paper to ink, and its softness (sigma, px).
BLEED_STRENGTH, BLEED_BLUR = (0.15, 0.6), (0.8, 2.5)


def _numba_cache() -> None:
    """augraphy's compiled steps keep numba's on-disk cache, and numba refuses to compile them when neither
    augraphy's folder nor the user's cache folder can be written (a read-only install run by a service user
    without a home); numba then caches in a temporary folder of this process instead, removed at exit."""
    import numba
    from numba.core.caching import InTreeCacheLocator, UserWideCacheLocator

    source = importlib.util.find_spec("augraphy").origin  # found, not imported: importing is what would fail
    if not numba.config.CACHE_DIR and not any(locator.from_function(_numba_cache, source)
                                              for locator in (InTreeCacheLocator, UserWideCacheLocator)):
        numba.config.CACHE_DIR = tempfile.mkdtemp(prefix="numba-cache-")
        atexit.register(shutil.rmtree, numba.config.CACHE_DIR, ignore_errors=True)


@lru_cache(maxsize=1)
def _augmentations() -> tuple[tuple[float, object], ...]:
    _numba_cache()
    import augraphy

    return tuple((p, getattr(augraphy, name)(p=1, **kw)) for p, name, kw in AUGRAPHY_STEPS)


@lru_cache(maxsize=1)
def _seed_numba():
    """A compiled function that seeds numba's own generators on the calling thread: augraphy's compiled steps
    (BadPhotoCopy's Worley noise) draw from them, and Python's and NumPy's seeds do not reach them."""
    import numba

    @numba.njit(cache=False)
    def seed(value: int) -> None:
        random.seed(value)
        np.random.seed(value)

    return seed


def _gray(x: np.ndarray) -> np.ndarray:
    if isinstance(x, tuple):
        x = x[0]
    x = np.asarray(x)
    if x.ndim == 3:  # some augraphy steps return BGR
        x = x[..., :3].mean(axis=2)
    return np.clip(x, 0, 255).astype(np.uint8)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """A smooth random field in [0, 1] of ``shape``: bicubic upsampling of a small random grid."""
    grid = rng.random((cells, cells)).astype(np.float32)
    up = Image.fromarray(grid, mode="F").resize((shape[1], shape[0]), Image.BICUBIC)
    f = np.asarray(up)
    return (f - f.min()) / (np.ptp(f) + 1e-6)


def uneven_illumination(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Multiply by a smooth gain: a linear light fall-off plus blotchy low-frequency shading."""
    h, w = x.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    gain = 1 - rng.uniform(0, 0.45) * ramp - rng.uniform(0, 0.3) * _smooth_field(rng, (h, w), int(rng.integers(2, 6)))
    return x * np.clip(gain, 0.2, 1)


def coffee_ring(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A coffee stain: a dark wobbly rim (sometimes only an arc) around a lighter tinted disc."""
    h, w = x.shape
    r = rng.uniform(0.08, 0.35) * min(h, w)
    cy, cx = rng.uniform(-0.1, 1.1) * h, rng.uniform(-0.1, 1.1) * w
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = np.arctan2(yy - cy, xx - cx)
    wobble = 1 + 0.04 * np.sin(3 * theta + rng.uniform(0, 6)) + 0.02 * np.sin(7 * theta + rng.uniform(0, 6))
    d = np.hypot(yy - cy, xx - cx) / (r * wobble)
    width = rng.uniform(0.015, 0.05)
    rim = np.exp(-(((d - 1) / width) ** 2))
    if rng.random() < 0.4:  # an incomplete ring
        rim *= 0.5 + 0.5 * np.cos(theta - rng.uniform(-np.pi, np.pi))
    fill = rng.uniform(0, 0.35) * (d < 1) * (0.6 + 0.4 * d**2)
    stain = rng.uniform(0.25, 0.6) * rim + rng.uniform(0.05, 0.25) * fill
    return x * (1 - np.clip(stain, 0, 0.85))


def crease(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fold line across the page: a thin dark ridge with soft shading falling off on one side."""
    h, w = x.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    px, py = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    dist = (xx - px) * np.sin(angle) - (yy - py) * np.cos(angle)
    ridge = rng.uniform(0.15, 0.45) * np.exp(-((dist / rng.uniform(0.7, 2.5)) ** 2))
    shade = rng.uniform(0.05, 0.2) * np.exp(-np.abs(dist) / rng.uniform(10, 60)) * (dist > 0)
    return x * (1 - ridge - shade)


def degrade(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A scanned-looking uint8 (H, W) version of a clean uint8 page; the same rng state gives the same page."""
    seed = int(rng.integers(2**31))
    random.seed(seed)  # augraphy draws from the global generators
    np.random.seed(seed)
    _seed_numba()(seed)
    x = np.ascontiguousarray(clean, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p, aug in _augmentations():
            if rng.random() < p:
                x = _gray(aug(x, force=True))
    f = x.astype(np.float32) / 255.0
    f = f * rng.uniform(0.7, 1.0) + rng.uniform(0.0, 0.08) * (1 - f)  # paper tone, washed-out ink
    for _ in range(rng.poisson(0.7)):
        f = coffee_ring(f, rng)
    for _ in range(rng.poisson(0.4)):
        f = crease(f, rng)
    if rng.random() < 0.6:
        f = uneven_illumination(f, rng)
    if rng.random() < 0.3:
        f = gaussian_filter(f, rng.uniform(0.3, 0.8))
    f = f + rng.normal(0, rng.uniform(0, 0.04), f.shape).astype(np.float32)
    # f can be float64 here; ``to_uint8`` rounds in float32 and would move a few pixels of the seeded held-out pages
    x = (np.clip(f, 0, 1) * 255 + 0.5).astype(np.uint8)
    if rng.random() < JPEG_PROBABILITY:
        x = jpeg(x, int(rng.integers(30, 90)))
    return x


def jpeg(x: np.ndarray, quality: int) -> np.ndarray:
    """A uint8 (H, W) page as saving it as a JPEG of ``quality`` and reading it back gives it."""
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("L"))


def widen(noisy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training-only photometric range beyond ``degrade``: gray/faded ink, dark or uneven paper, low
    contrast, gamma, phone-photo shading and dark scanner borders (the clean target stays as it is)."""
    f = noisy.astype(np.float32) / 255
    if rng.random() < 0.7:  # paper at P, ink at I: from black-on-white to gray ink on dark paper
        paper = rng.uniform(0.45, 1.0)
        ink = rng.uniform(0.0, max(0.0, paper - 0.15))
        f = ink + (paper - ink) * f
    if rng.random() < 0.5:
        f = f ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.3:  # phone-photo shading: a strong smooth gain
        f = uneven_illumination(f, rng) * rng.uniform(0.7, 1.0)
    if rng.random() < 0.2:  # dark scanner border along one or two edges
        h, w = f.shape
        for _ in range(int(rng.integers(1, 3))):
            depth = max(1, int(rng.uniform(0.02, 0.12) * (h if rng.random() < 0.5 else w)))
            dark = rng.uniform(0.0, 0.35) + rng.normal(0, 0.03, f.shape).astype(np.float32)
            edge = int(rng.integers(4))
            band = np.zeros(f.shape, bool)
            [band[:depth], band[-depth:], band[:, :depth], band[:, -depth:]][edge] = True
            f = np.where(band, dark, f)
    return to_uint8(f)


def bleed_through(scan: np.ndarray, ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training-only: the page's own ink, mirrored and shifted, showing through from the back of the sheet as a
    soft, uneven ghost between paper and ink (the ground truth ``ink`` stays as it is: bleed-through is paper)."""
    h, w = ink.shape
    ghost = np.roll(ink[:, ::-1], (int(rng.integers(h)), int(rng.integers(w))), axis=(0, 1)).astype(np.float32)
    ghost = gaussian_filter(ghost, rng.uniform(*BLEED_BLUR))
    ghost /= max(float(ghost.max()), 1e-6)
    f = scan.astype(np.float32) / 255
    ink_level = float(np.median(f[ink])) if ink.any() else 0.0
    strength = rng.uniform(*BLEED_STRENGTH) * (0.3 + 0.7 * _smooth_field(rng, (h, w), int(rng.integers(2, 6))))
    f -= strength * ghost * np.maximum(f - ink_level, 0)
    return to_uint8(f)


def camera(noisy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training-only capture by a phone camera or a poor scanner, after ``widen``: ``photograph`` with a random
    blur, noise and (half the time) JPEG quality."""
    blur, noise = rng.uniform(0.0, CAMERA_BLUR), rng.uniform(0.0, CAMERA_NOISE)
    x = photograph(noisy, blur, noise, rng)
    return jpeg(x, int(rng.integers(*CAMERA_JPEG))) if rng.random() < 0.5 else x


def sensor_noise(noisy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training-only sensor noise alone, after ``widen``: ``photograph`` with no blur and no JPEG."""
    return photograph(noisy, 0.0, rng.uniform(*SENSOR_NOISE), rng)


def photograph(noisy: np.ndarray, blur: float, noise: float, rng: np.random.Generator,
               quality: int | None = None) -> np.ndarray:
    """A uint8 page with a defocus blur (Gaussian sigma, px), sensor noise (sigma, at the page's own contrast, so
    faint ink drowns in it as in a photo) and, unless ``quality`` is None, saved as a JPEG."""
    f = gaussian_filter(noisy.astype(np.float32) / 255, blur)
    f = f + rng.normal(0, noise, f.shape).astype(np.float32)
    x = to_uint8(f)
    return x if quality is None else jpeg(x, quality)
