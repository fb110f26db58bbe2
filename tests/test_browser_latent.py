"""The latent explorer in a real Chromium: drag the point and see new items painted while the button is down."""
from __future__ import annotations

import numpy as np
import pytest


pytestmark = pytest.mark.browser

PAD = 'iframe[title*="latent_pad"]'
# The 28×28 decoded item as painted: the centre of each enlarged pixel of the big canvas.
READ_CANVAS = """() => {
  const c = document.getElementById('big'), s = c.width / 28, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out.push(d[4 * ((Math.floor((y + 0.5) * s)) * c.width + Math.floor((x + 0.5) * s))]);
  return out;
}"""


def open_pad(page, app_url):
    """Open the explorer; return the pad's frame once its plot and first decoded item are painted."""
    page.goto(f"{app_url}/latent_explorer")
    marker = page.frame_locator(PAD).locator("#marker")
    marker.wait_for(state="visible", timeout=120_000)
    frame = next(f for f in page.frames if "latent_pad" in f.url)
    frame.wait_for_function("window.latentPad && window.latentPad.painted >= 1", timeout=60_000)
    return frame, marker


def painted(frame) -> np.ndarray:
    return np.array(frame.evaluate(READ_CANVAS), np.uint8).reshape(28, 28)


def test_dragging_the_point_redecodes_while_the_mouse_button_is_down(page, app_url):
    from core.config import VAE_DECODER
    from core.inference import load_model
    from core.latent import LatentDecoder
    from core.render import to_uint8

    frame, marker = open_pad(page, app_url)
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    images = [painted(frame)]
    for step in range(1, 6):
        count = frame.evaluate("window.latentPad.painted")
        page.mouse.move(x + 22 * step, y - 14 * step, steps=4)
        frame.wait_for_function("n => window.latentPad.painted > n", arg=count, timeout=30_000)
        assert frame.evaluate("document.getElementById('marker').classList.contains('dragging')")  # still held
        images.append(painted(frame))
    # Several new items were painted mid-drag, each visibly different from the one before.
    differences = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(images, images[1:])]
    assert min(differences) > 0.5, differences
    page.mouse.up()

    # After release the number inputs mirror the point, and the painted item is the decoder's output there.
    frame.wait_for_function("!window.latentPad.busy", timeout=30_000)
    z1, z2 = (page.locator(f'input[aria-label="{name}"]') for name in ("z₁", "z₂"))
    page.wait_for_function("() => document.querySelector('input[aria-label=\"z₁\"]').value !== '0.000'")
    z = (float(z1.input_value()), float(z2.input_value()))
    assert z[0] > 0.05 and z[1] > 0.05  # dragged right and up
    decoder = LatentDecoder(load_model(VAE_DECODER))
    np.testing.assert_allclose(painted(frame), to_uint8(decoder.one(*z)), atol=1)


def test_number_input_moves_the_point_and_repaints(page, app_url):
    frame, marker = open_pad(page, app_url)
    before, left = painted(frame), marker.bounding_box()["x"]
    count = frame.evaluate("window.latentPad.painted")
    field = page.locator('input[aria-label="z₁"]')
    field.fill("-1.5")
    field.press("Enter")
    frame.wait_for_function("n => window.latentPad.painted > n", arg=count, timeout=30_000)
    assert np.abs(painted(frame).astype(int) - before.astype(int)).mean() > 0.5
    marker_moved = page.frame_locator(PAD).locator("#marker").bounding_box()["x"]
    assert marker_moved < left - 10  # moved left on the scatter
