"""Upright, straight pages: the skew of the text lines (the ``deskew`` library's Hough estimate, over ±90°),
then which way up the lines read (RapidOCR's detector says whether they run across or down the page, its
direction classifier which way up they are, its recogniser that they are text). A page without readable text
is left alone."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ESTIMATE_SIDE = 1000  # skew and orientation are estimated on a copy at most this many pixels a side
COARSE_STEP = 1.0  # degrees between the angles the skew estimate tries over ±90° ...
SKEW_STEP = 0.05  # ... then within one coarse step either side of the best (a fine search over ±90° costs 6×)
LEAST_SKEW = 0.05  # a page whose skew is smaller is not resampled
MIN_LINES = 3  # a page with fewer detected lines of text is left as it is
SAMPLE_LINES = 10  # the longest lines, read both ways up to tell which is up
SAMPLE_RATIO = 16  # ... each cut to at most this many line heights of width (enough words, bounded time)
FLIP_MARGIN = 0.25  # the lines' mean probability of being upside down (direction classifier) over 1 - this:
# turned when they also read at least as well that way; over this: read both ways, turned when they read better
READ_LINES = 4  # lines read to tell text from a photo or pattern (and which way up, when the classifier is unsure)
READ_MARGIN = 0.05  # ... turned upside down when they read this much more confidently that way
TEXT_SCORE = 0.75  # ... their mean recognition confidence, the right way up, must reach this


@dataclass(frozen=True)
class Turn:
    """What straightening did to a page: a quarter turn anticlockwise (0, 90, 180, 270), then ``skew`` degrees
    anticlockwise."""

    quarter: int = 0
    skew: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.quarter) or abs(self.skew) >= LEAST_SKEW

    @property
    def angle(self) -> float:
        """The whole correction, anticlockwise degrees in (-180, 180]."""
        a = (self.quarter + self.skew) % 360
        return a - 360 if a > 180 else a

    def describe(self) -> str:
        """What was done, for people ("" when nothing)."""
        parts = {90: ["turned 90° anticlockwise"], 180: ["turned upside down"],
                 270: ["turned 90° clockwise"]}.get(self.quarter, [])
        if abs(self.skew) >= LEAST_SKEW:
            parts.append(f"straightened by {abs(self.skew):.1f}° {'anti' if self.skew > 0 else ''}clockwise")
        return " and ".join(parts)


def _small(image: Image.Image) -> Image.Image:
    small = image.convert("L")
    small.thumbnail((ESTIMATE_SIDE, ESTIMATE_SIDE), Image.Resampling.BOX)
    return small


def _skew(page: np.ndarray) -> float | None:
    """The angle (degrees, ±90°) that levels the page's text lines: ``deskew``'s Hough estimate in coarse steps, then
    the same vote (the most frequent of the Hough transform's 20 strongest lines) in fine steps near it."""
    from deskew import determine_skew
    from skimage.feature import canny
    from skimage.transform import hough_line, hough_line_peaks

    coarse = determine_skew(page, angle_pm_90=True, min_deviation=COARSE_STEP)
    if coarse is None:
        return None
    # deskew's angle a comes from the Hough angle θ as a = θ mod 180° - 90°
    near = np.deg2rad(coarse + 90 + np.arange(-COARSE_STEP, COARSE_STEP + SKEW_STEP / 2, SKEW_STEP))
    votes, thetas, dists = hough_line(canny(page, sigma=3.0), near)
    _, found, _ = hough_line_peaks(votes, thetas, dists, num_peaks=20, threshold=0.05 * votes.max())
    if not len(found):
        return float(coarse)
    values, counts = np.unique(found, return_counts=True)
    return float(np.rad2deg(values[np.argmax(counts)] % np.pi) - 90)


def _paper(image: Image.Image) -> int:
    """The page's paper shade (the corners a rotation uncovers are filled with it)."""
    return int(np.percentile(np.asarray(image.reduce(4) if min(image.size) >= 16 else image), 90))


def _lines(image: Image.Image) -> tuple[list, list]:
    from core.ocr import detect

    boxes = detect(np.asarray(image))
    wide = [b for b in boxes if b[2] - b[0] >= 2 * (b[3] - b[1])]
    tall = [b for b in boxes if b[3] - b[1] >= 2 * (b[2] - b[0])]
    return wide, tall


def _crops(image: Image.Image, boxes: list) -> list[np.ndarray]:
    """The longest lines, each cut to at most ``SAMPLE_RATIO`` line heights."""
    page = np.asarray(image)
    return [page[max(0, int(y0)):int(np.ceil(y1)), max(0, int(x0)):int(min(x1, x0 + SAMPLE_RATIO * (y1 - y0)))]
            for x0, y0, x1, y1 in sorted(boxes, key=lambda b: b[0] - b[2])[:SAMPLE_LINES]]


def detect(image: Image.Image) -> Turn:
    """The turn that makes a page's text upright and level; ``Turn()`` for a page without readable text."""
    from core.ocr import line_scores, readable, upside_down

    small = _small(image)
    if not readable(small.size):  # a strip: no lines to level, nothing to turn
        return Turn()
    angle = _skew(np.asarray(small))
    if angle is None:
        return Turn()
    level = small.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=_paper(small))
    wide, tall = _lines(level)
    if len(tall) > len(wide):  # the lines run down the page
        angle += 90
        level = level.rotate(90, expand=True)
        wide, tall = _lines(level)
    if len(wide) < MIN_LINES:
        return Turn()
    crops = _crops(level, wide)
    flipped = float(np.mean(upside_down(crops)))
    upright = float(np.mean(line_scores(crops[:READ_LINES])))
    if flipped > FLIP_MARGIN:  # the classifier thinks, or is unsure, the page is upside down: read it that way too
        turned = float(np.mean(line_scores([c[::-1, ::-1] for c in crops[:READ_LINES]])))
        if turned > upright + READ_MARGIN or (flipped > 1 - FLIP_MARGIN and turned >= upright):
            angle, upright = angle + 180, turned
    if upright < TEXT_SCORE:  # not text: a photo, a pattern
        return Turn()
    quarter = round(angle / 90)
    return Turn(int(quarter % 4) * 90, round(angle - 90 * quarter, 2))


def apply(image: Image.Image, turn: Turn) -> Image.Image:
    """The page turned by ``turn``: quarter turns exactly, the skew resampled at the same size (the corners it
    uncovers filled with the paper's shade)."""
    if turn.quarter:
        image = image.rotate(turn.quarter, expand=True)  # multiples of 90° are exact transpositions
    if abs(turn.skew) >= LEAST_SKEW:
        image = image.rotate(turn.skew, Image.Resampling.BICUBIC, fillcolor=_paper(image))
    return image


def straighten(image: Image.Image) -> tuple[Image.Image, Turn]:
    """The page upright and level, and what was done to it."""
    turn = detect(image)
    return (apply(image, turn), turn) if turn else (image, turn)
