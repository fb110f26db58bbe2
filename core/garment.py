"""A photo of your own garment as a Fashion-MNIST item, prepared the way the data set was made.

Fashion-MNIST's recipe (Xiao et al., 2017) on product shots: trim the plain border, fit the longest side to
28, centre, invert to a dark background, gray. ``prepare_garment`` follows it for a photo of any size: the
background's level and noise are read from the border pixels (white, light or gray backgrounds, JPEG noise),
transparency counts as background, and a hanger's hook above the garment is trimmed. The VAE's pages, tests
and benchmarks call it as ``core.serving.vae.prepare_garment``.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from core.config import IMAGE_SIZE
from core.imageio import is_pdf_data, open_upload, to_grayscale

WORK_SIDE = 512  # photos are reduced to at most this many pixels a side first: plenty for 28, and fast
BORDER_SHARE = 0.02  # the outer 2 % of each side (at least 2 pixels) is read as the background
MIN_CONTRAST = 0.08  # garment differs from the background by this share of the range between it and black/white
HOOK_SHARE = 0.1  # top rows covering less than this share of the garment's widest row (a hanger's hook) go
SPECK_SHARE = 0.05  # garment parts smaller than this share of the largest one (dust, logos) do not widen the trim


def open_garment(data: bytes, filename: str) -> Image.Image:
    """An uploaded photo, checked against core.limits and decoded as the other pages do (core.imageio); the
    image with its transparency when it has some, else gray. InputError naming the file when unusable."""
    with open_upload(data, filename) as upload:
        gray = upload.page(0).image
    image = gray if is_pdf_data(data) else Image.open(io.BytesIO(data))
    if image is not gray and _has_alpha(image):  # the same file, already decoded once without error
        image.load()
        return image
    return gray


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def prepare_garment(image: Image.Image) -> np.ndarray:
    """A photo of one garment on a plain background as a Fashion-MNIST item: (28, 28) float32 in [0, 1], the
    garment light on a dark background, its longest side 28 pixels, centred. Transparency counts as
    background; EXIF orientation is applied."""
    image = ImageOps.exif_transpose(image) or image
    if max(image.size) > WORK_SIDE:
        image = image.copy()
        image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)  # averages: JPEG noise fades, edges stay
    alpha = np.asarray(image.convert("RGBA").getchannel("A"), np.float32) / 255 if _has_alpha(image) else None
    if alpha is not None and alpha.min() < 0.5:  # a cut-out: what is transparent is the background, white as
        x = np.asarray(image.convert("RGBA").convert("RGB").convert("L"), np.float32) / 255  # in Fashion-MNIST
        x, background, noise = alpha * x + (1 - alpha), 1.0, 0.0
    else:
        alpha, x = None, np.asarray(to_grayscale(image), np.float32) / 255
        background, noise = _background(x)
    darker = _darker_garment(x, background, max(noise, MIN_CONTRAST / 2))
    span = max(background if darker else 1 - background, 0.05)  # from the background to black (or white)
    item = (background - x) / span if darker else (x - background) / span
    mask = item > max(MIN_CONTRAST, noise / span)
    if alpha is not None:
        mask |= alpha > 0.5
    top, bottom, left, right = _garment_box(mask)
    item = np.clip(item[top:bottom, left:right], 0.0, 1.0)
    item[~mask[top:bottom, left:right]] = 0.0  # the plain background is exactly dark, as in Fashion-MNIST
    return _normalise(_fit_square(item))


def _background(x: np.ndarray) -> tuple[float, float]:
    """The background's level (median of the border pixels) and its noise: the difference from it that 4 robust
    standard deviations of the border reach (at most 0.3)."""
    band = max(2, round(BORDER_SHARE * min(x.shape)))
    border = np.concatenate([x[:band].ravel(), x[-band:].ravel(), x[:, :band].ravel(), x[:, -band:].ravel()])
    level = float(np.median(border))
    spread = 1.4826 * float(np.median(np.abs(border - level)))
    return level, min(4 * spread, 0.3)


def _darker_garment(x: np.ndarray, background: float, threshold: float) -> bool:
    """Whether the garment is mostly darker than the background (the usual product shot on white)."""
    differs = x[np.abs(x - background) > threshold]
    return differs.size == 0 or float(np.mean(differs < background)) >= 0.5


def _garment_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the garment: its parts after an opening that removes specks, the large
    ones only, less a narrow run of rows on top (a hanger's hook). The whole image when nothing is found."""
    opened = ndimage.binary_opening(mask, np.ones((3, 3), bool)) if min(mask.shape) >= 2 * IMAGE_SIZE else mask
    opened = opened if opened.any() else mask  # a garment of thin lines only
    labels, n = ndimage.label(opened)
    if n == 0:
        return 0, mask.shape[0], 0, mask.shape[1]
    sizes = ndimage.sum_labels(opened, labels, range(1, n + 1))
    kept = np.isin(labels, 1 + np.flatnonzero(sizes >= SPECK_SHARE * sizes.max()))
    rows, cols = np.flatnonzero(kept.any(axis=1)), np.flatnonzero(kept.any(axis=0))
    top, bottom = rows[0], rows[-1] + 1
    widths = kept[top:bottom].sum(axis=1)
    top += int(np.argmax(widths >= HOOK_SHARE * widths.max()))
    cols = np.flatnonzero(kept[top:bottom].any(axis=0))
    return int(top), int(bottom), int(cols[0]), int(cols[-1] + 1)


def _normalise(item: np.ndarray) -> np.ndarray:
    """Stretch so the brightest pixel is white, as in every Fashion-MNIST item (their maxima are 254-255)."""
    top = float(item.max())
    return item / top if top > 0 else item


def _fit_square(item: np.ndarray) -> np.ndarray:
    """Longest side to 28 (Lanczos, which averages when it reduces), centred on a dark 28×28."""
    h, w = item.shape
    scale = IMAGE_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(item.astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS))
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    top, left = (IMAGE_SIZE - size[1]) // 2, (IMAGE_SIZE - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = small
    return np.clip(out, 0.0, 1.0)
