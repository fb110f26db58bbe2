"""Stroke width and cleaning at the strokes' resolution: a page scanned finer is cleaned shrunk, at its own size."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.documents.normalize import normalize
from core.documents.strokes import MAX_REDUCTION, SHRINK_ABOVE, SHRINK_TO, reduction, stroke_width
from core.inference import load_model
from core.serving.documents import both_modes, clean_array


def strokes(width: int, size: tuple[int, int] = (700, 900), seed: int = 0) -> np.ndarray:
    """A page of pen-like strokes ``width`` pixels wide: ink (True) on paper; curved and straight, all angles."""
    rng = np.random.default_rng(seed)
    image = Image.new("1", size, 0)
    draw = ImageDraw.Draw(image)
    step = 12 * width
    for y in range(step, size[1] - step, step):
        for x in range(step, size[0] - step, step):
            a, b = rng.uniform(-0.8, 0.8, 2) * 4 * width
            draw.line([(x, y), (x + a + 4 * width, y + b), (x + 2 * a, y + 4 * width)], fill=1, width=width)
            draw.arc([x, y - 3 * width, x + 6 * width, y + 3 * width], 0, 200, fill=1, width=width)
    return np.asarray(image.convert("L")) > 0


def page(ink: np.ndarray) -> np.ndarray:
    """A scan of ``ink``: dark ink on light paper, a little noise."""
    rng = np.random.default_rng(1)
    return np.clip(np.where(ink, 0.15, 0.85) + rng.normal(0, 0.03, ink.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("width", [2, 4, 8, 16])
def test_the_stroke_width_is_the_pen_width(width):
    assert stroke_width(strokes(width)) == pytest.approx(width, rel=0.3)


def test_a_black_block_does_not_widen_the_strokes():
    ink = strokes(3)
    ink[100:400, 100:400] = True  # a black block: a tenth of the page, one short skeleton
    assert stroke_width(ink) == pytest.approx(3, rel=0.3)


def test_a_blank_page_has_no_strokes_and_is_cleaned_as_it_is():
    assert stroke_width(np.zeros((300, 200), bool)) is None
    assert reduction(np.ones((300, 200), np.float32)) == 1.0


def test_only_pages_with_strokes_wider_than_training_are_shrunk():
    normalized = lambda ink: np.where(ink, 0.0, 1.0).astype(np.float32)  # noqa: E731
    assert reduction(normalized(strokes(4))) == 1.0
    assert SHRINK_ABOVE < 16 < SHRINK_TO * MAX_REDUCTION
    assert reduction(normalized(strokes(16))) == pytest.approx(16 / SHRINK_TO, rel=0.3)
    assert reduction(normalized(strokes(40, (1600, 1600)))) == MAX_REDUCTION


class Recorder:
    """A model that remembers the sizes it was run at."""

    def __init__(self, model):
        self.model, self.shapes = model, []

    def __call__(self, inputs, training=False):
        self.shapes.append(inputs[0].shape[1:3])
        return self.model(inputs, training=training)


def f_measure(ink: np.ndarray, truth: np.ndarray) -> float:
    tp = np.sum(ink & truth)
    return 2 * tp / (ink.sum() + truth.sum())


def test_a_finely_scanned_page_is_cleaned_shrunk_and_comes_back_at_its_size():
    model = Recorder(load_model("documents"))
    truth = strokes(14, (640, 480))
    scan = page(truth)
    cleaned = clean_array(model, scan)
    assert cleaned.shape == scan.shape
    assert max(h for h, _ in model.shapes) <= scan.shape[0] / 1.5  # the network saw the page shrunk
    gray, bw = both_modes(cleaned, normalize(scan))
    assert f_measure(gray < 0.5, truth) > 0.95 and f_measure(~bw, truth) > 0.95
    model.shapes.clear()
    clean_array(model, scan, rescale=False)
    assert max(h for h, _ in model.shapes) >= scan.shape[0]
