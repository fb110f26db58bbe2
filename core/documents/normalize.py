"""Page normalisation: a page divided by its own paper, stretched by its own ink contrast.

The document cleaner sees it beside the scan (``core.serving.documents`` normalises each whole page once), and it is
evaluated on its own as a classical baseline beside Otsu and Sauvola (``core.evaluation.documents``).

Real scans differ from each other mostly in paper tone, lighting and ink darkness. Dividing by a robust
estimate of the paper (a grey closing, which removes strokes narrower than its window, on a small copy)
maps paper to 1 wherever it is; dividing the remaining darkness by the page's typical ink contrast maps
typical ink to 0. Faint-but-real ink on dark paper then looks like black on white, while a blank page
stays nearly blank because the contrast is never stretched by more than ``1 / MIN_CONTRAST``.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, grey_closing, median_filter
from skimage.filters import threshold_otsu

SMALL_SIDE = 256  # the paper is estimated on a copy whose shorter side is about this many pixels
WINDOW = 0.06  # closing window, as a share of the shorter side (wider than any stroke, narrower than stains)
# The ink contrast is never taken below MIN_CONTRAST, so noise on a blank page is not amplified into ink: 0.2 is the
# lowest (in steps of 0.05) at which a noisy blank page keeps under 2 % specks (docs/research/documents.md, 5 Dec).
MIN_CONTRAST = 0.2
INK_QUANTILE = 0.5  # the typical ink: this quantile of the darkness of pixels Otsu calls ink
EDGE_QUANTILE = 0.99  # Otsu sees darkness capped here, so a thin dark page edge cannot outvote faint ink
# The smoothed paper estimate is never brighter than the closing by more than this: smoothing would otherwise carry a
# page's paper out over the dark table or scanner lid around it, read then as a band of ink (1: no cap, before 5 Dec).
PAPER_OVERSHOOT = 0.0


def settings() -> dict[str, float]:
    """The constants pages are normalised with, for model cards: a network trained under others saw other inputs."""
    return {"SMALL_SIDE": SMALL_SIDE, "WINDOW": WINDOW, "MIN_CONTRAST": MIN_CONTRAST, "INK_QUANTILE": INK_QUANTILE,
            "EDGE_QUANTILE": EDGE_QUANTILE, "PAPER_OVERSHOOT": PAPER_OVERSHOOT}


def paper(page: np.ndarray) -> np.ndarray:
    """A smooth estimate of the paper's brightness under every pixel of a float (H, W) page in [0, 1]."""
    h, w = page.shape
    k = max(1, min(h, w) // SMALL_SIDE)
    small = np.asarray(Image.fromarray(np.asarray(page, np.float32), "F").resize((max(1, w // k), max(1, h // k)),
                                                                                  Image.BOX))
    window = max(3, int(WINDOW * min(small.shape)) | 1)
    closed = grey_closing(median_filter(small, 3), size=window)
    bg = np.minimum(gaussian_filter(closed, window / 4), closed + PAPER_OVERSHOOT)
    return np.array(Image.fromarray(bg, "F").resize((w, h), Image.BILINEAR))  # writable: normalize works in it


def levels(darkness: np.ndarray) -> tuple[float, float]:
    """(paper, ink): the typical darkness of paper pixels and of ink pixels (Otsu splits them, blind to the
    darkest 1 %: a scanner's black edge line would otherwise become the typical ink on a faint page).

    The paper estimate is an upper envelope, so paper pixels sit a little below it; their median
    darkness is that offset. The ink contrast above it is never taken below ``MIN_CONTRAST``.
    """
    sample = darkness[:: max(1, darkness.shape[0] // 512), :: max(1, darkness.shape[1] // 512)]
    if np.ptp(sample) < 1e-3:
        return float(sample.flat[0]), float(sample.flat[0]) + MIN_CONTRAST
    t = threshold_otsu(np.minimum(sample, np.quantile(sample, EDGE_QUANTILE)))
    paper_level = float(np.median(sample[sample <= t]))
    ink = sample[sample > t]
    ink_level = float(np.quantile(ink, INK_QUANTILE)) if ink.size else paper_level
    return paper_level, max(ink_level, paper_level + MIN_CONTRAST)


def normalize(page: np.ndarray) -> np.ndarray:
    """A float32 (H, W) page in [0, 1] with its paper at 1 and its typical ink at 0."""
    page = np.asarray(page, np.float32)
    # In place, in the paper estimate's buffer: a 40-megapixel page costs one more page of memory, not six.
    out = paper(page)
    np.maximum(out, 1e-3, out=out)
    np.divide(page, out, out=out)
    np.clip(out, 0, 1, out=out)
    darkness = np.subtract(1, out, out=out)
    paper_level, ink_level = levels(darkness)
    darkness -= paper_level
    darkness /= ink_level - paper_level
    np.clip(darkness, 0, 1, out=darkness)
    return np.subtract(1, darkness, out=darkness)
