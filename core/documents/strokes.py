"""Stroke width: how many pixels wide a page's pen strokes are, and how far to shrink a page before cleaning.

The cleaner is a convolutional network with a fixed field of view in pixels, trained on pages whose strokes are
2-9 pixels wide. A page scanned at twice that resolution (600 dpi, a phone photo) shows strokes twice as wide and
lost 6-9 F-measure points on the DIBCO pages; cleaned at the resolution its strokes call for and enlarged back, it
lost about 1 (docs/research/documents.md, 5 Dec: cleaning at the strokes' resolution).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

# Pages whose typical stroke is wider than SHRINK_ABOVE pixels are shrunk until it is SHRINK_TO wide before cleaning.
# The widest the cleaner trained on is about 9 (synthetic 2-9, Kaggle 2-3, DIBCO 3-10, median 5), so no training
# page is shrunk; shrinking from 6 instead changed the unscaled DIBCO years by <= 0.2 points but one synthetic page.
SHRINK_ABOVE, SHRINK_TO = 9.0, 6.0
MAX_REDUCTION = 4.0  # never shrink a page more than this: a stroke 24 pixels wide is more likely a block than a pen
CROP, CROPS = 256, 16  # the width is measured on the CROPS inkiest CROP x CROP squares of the page: bounded time
MIN_MARK = 4  # marks of fewer pixels are specks, not strokes


def inkiest_squares(ink: np.ndarray) -> list[np.ndarray]:
    """The ``CROPS`` ``CROP`` x ``CROP`` squares of a boolean ink mask with the most ink (none without ink); a page
    smaller than a square is its own one square."""
    h, w = ink.shape
    if h < CROP or w < CROP:
        return [ink] if ink.any() else []
    rows, cols = h // CROP, w // CROP
    counts = ink[:rows * CROP, :cols * CROP].reshape(rows, CROP, cols, CROP).sum(axis=(1, 3))
    cells = [divmod(int(i), cols) for i in np.argsort(counts, axis=None)[::-1][:CROPS]]
    return [ink[r * CROP:(r + 1) * CROP, c * CROP:(c + 1) * CROP] for r, c in cells if counts[r, c]]


def stroke_width(ink: np.ndarray) -> float | None:
    """Typical stroke width in pixels of a boolean ink mask: each mark's area over its skeleton's length, the
    median over marks weighted by that length (a black block is one short skeleton), on the inkiest squares."""
    widths, lengths = [np.empty(0)], [np.empty(0)]
    for square in inkiest_squares(ink):
        labels, count = ndimage.label(square, structure=np.ones((3, 3), bool))
        area = np.bincount(labels.ravel(), minlength=count + 1)[1:]
        length = np.bincount(labels[skeletonize(square)], minlength=count + 1)[1:]
        keep = (length > 0) & (area >= MIN_MARK)
        widths.append(area[keep] / length[keep])
        lengths.append(length[keep])
    width, length = np.concatenate(widths), np.concatenate(lengths)
    if not width.size:
        return None
    order = np.argsort(width)
    cumulative = np.cumsum(length[order])
    return float(width[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def reduction(normalized: np.ndarray) -> float:
    """How many times smaller the page is cleaned (1: as it is), from its normalised page's strokes (ink darker
    than half gray): when its typical stroke is wider than ``SHRINK_ABOVE``, shrunk until it is ``SHRINK_TO`` pixels
    wide, at most ``MAX_REDUCTION`` times."""
    width = stroke_width(np.asarray(normalized) < 0.5)
    if width is None or width <= SHRINK_ABOVE:
        return 1.0
    return float(np.clip(width / SHRINK_TO, 1.0, MAX_REDUCTION))
