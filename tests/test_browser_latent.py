"""The latent explorer in a real Chromium: drag the point and see new items painted while the button is down."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from tests.browser import latent_pad_painted, open_latent_pad
from tests.conftest import ROOT


pytestmark = pytest.mark.browser

PAD = 'iframe[title*="latent_pad"]'
# The 28×28 decoded item as painted: the centre of each enlarged pixel of the big canvas.
READ_CANVAS = """() => {
  const c = document.getElementById('big'), s = c.width / 28;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const out = [];
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++)
    out.push(d[4 * ((Math.floor((y + 0.5) * s)) * c.width + Math.floor((x + 0.5) * s))]);
  return out;
}"""


def painted(frame) -> np.ndarray:
    return np.array(frame.evaluate(READ_CANVAS), np.uint8).reshape(28, 28)


DECODER_JS = ROOT / "components" / "latent_pad" / "frontend" / "decoder.js"
RUN_DECODER = """([spec, weights, points]) => {
  const raw = atob(weights), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const decoder = new BrowserDecoder(spec, bytes.buffer);
  return points.map((z) => Array.from(decoder.decode(z)));
}"""


@pytest.mark.parametrize("architecture", ["conv", "seed"])
def test_the_browser_decoder_equals_the_keras_decoder(page, architecture):
    """decoder.js in Chromium, on a decoder with random weights and biases, against Keras on 64 points."""
    from core.serving.vae import browser_decoder
    from core.models.vae import build_vae

    decoder = build_vae(architecture, seed=0).decoder
    rng = np.random.default_rng(1)
    for layer in decoder.layers:
        if layer.weights:
            layer.set_weights([w + rng.normal(0, 0.05, w.shape) for w in layer.get_weights()])
    spec, weights = browser_decoder(decoder)
    z = np.round(np.random.default_rng(0).normal(0, 2, (64, 2)), 3).astype(np.float32)
    page.goto("about:blank")
    page.add_script_tag(path=str(DECODER_JS))
    got = np.array(page.evaluate(RUN_DECODER, [spec, base64.b64encode(weights).decode(), z.tolist()]))
    want = np.asarray(decoder(z, training=False)).reshape(len(z), -1)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_pad_decodes_the_shipped_renderer_in_the_browser(page, app_url):
    from core.config import VAE_RENDERER
    from core.inference import load_model

    frame, _ = open_latent_pad(page, app_url, decodes="browser")
    z = np.round(np.random.default_rng(2).normal(0, 2, (32, 2)), 3).astype(np.float32)
    got = np.array(frame.evaluate("points => points.map((z) => window.latentPad.decode(z))", z.tolist()))
    want = np.asarray(load_model(VAE_RENDERER)(z, training=False)).reshape(len(z), -1)
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("decodes", ["browser", "server"])
def test_dragging_the_point_redecodes_while_the_mouse_button_is_down(page, app_url, decodes):
    """Both ways of painting: the browser's decoder, and the server's images when its weights cannot load."""
    from core.config import VAE_RENDERER
    from core.inference import load_model
    from core.serving.vae import LatentDecoder
    from core.render import to_uint8

    frame, marker = open_latent_pad(page, app_url, decodes=decodes)
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
    z = tuple(frame.evaluate("window.latentPad.z"))  # where the point was let go
    # The inputs were mirroring the drag all along: wait for the last point, not just any other than 0.
    page.wait_for_function("""z => ['z₁', 'z₂'].every((name, k) =>
                                 document.querySelector(`input[aria-label="${name}"]`).value === z[k].toFixed(3))""",
                           arg=list(z), timeout=30_000)
    assert z[0] > 0.05 and z[1] > 0.05  # dragged right and up
    decoder = LatentDecoder(load_model(VAE_RENDERER))
    np.testing.assert_allclose(painted(frame), to_uint8(decoder.one(*z)), atol=1)
    assert frame.evaluate("window.latentPad.decodes") == decodes


def test_number_input_moves_the_point_and_repaints(page, app_url):
    frame, marker = open_latent_pad(page, app_url)
    before, left = painted(frame), marker.bounding_box()["x"]
    count = frame.evaluate("window.latentPad.painted")
    field = page.locator('input[aria-label="z₁"]')
    field.fill("-1.5")
    field.press("Enter")
    frame.wait_for_function("n => window.latentPad.painted > n", arg=count, timeout=30_000)
    assert np.abs(painted(frame).astype(int) - before.astype(int)).mean() > 0.5
    marker_moved = page.frame_locator(PAD).locator("#marker").bounding_box()["x"]
    assert marker_moved < left - 10  # moved left on the scatter


def test_a_designer_starts_from_a_garment_and_downloads_a_board(page, app_url):
    """Upload a garment -> its point ringed -> variations -> keep two items -> download the board (PNG, CSV)."""
    from core.data import load_test_set
    from core.moodboard import read_board_csv, read_contact_sheet
    from tests.test_garment import png, product_shot

    frame, marker = open_latent_pad(page, app_url)
    dress = load_test_set().images.reshape(-1, 28, 28)[13]  # test item 13 is a dress
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    uploader.set_input_files({"name": "dress.png", "mimeType": "image/png",
                              "buffer": png(product_shot(dress, at=(150, 60)))})
    frame.wait_for_function("window.latentPad.ring !== null", timeout=120_000)
    ring = page.frame_locator(PAD).locator("#ring")
    ring.wait_for(state="visible", timeout=30_000)
    page.wait_for_function("() => /z1=-?[0-9.]+&z2=-?[0-9.]+/.test(location.search)", timeout=30_000)
    # The point jumped to the garment: the ring and the draggable point are at one place.
    frame.wait_for_function("r => window.latentPad.z[0] === r[0] && window.latentPad.z[1] === r[1]",
                            arg=frame.evaluate("window.latentPad.ring"), timeout=30_000)
    a, b = ring.bounding_box(), marker.bounding_box()
    assert abs((a["x"] + a["width"] / 2) - (b["x"] + b["width"] / 2)) < 2
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Prepared as a 28×28 item").wait_for(timeout=30_000)
    main.get_by_text("Numbered 1–25 in reading order").wait_for(timeout=30_000)  # the variations sheet
    main.get_by_text("Nearest real items").wait_for(timeout=30_000)

    main.get_by_role("button", name="Keep this variation").click()
    main.get_by_text("Mood board (1 kept)").wait_for(timeout=30_000)
    main.get_by_role("button", name="Keep on the mood board").click()
    main.get_by_text("Mood board (2 kept)").wait_for(timeout=30_000)

    with page.expect_download(timeout=60_000) as got:
        main.get_by_role("button", name="Board as a contact sheet (PNG)").click()
    items, pictures = read_contact_sheet(Path(got.value.path()).read_bytes())
    assert [i.source for i in items] == ["variation", "your garment"] and pictures.shape == (2, 28, 28)
    with page.expect_download(timeout=60_000) as got:
        main.get_by_role("button", name="Board's points (CSV)").click()
    assert read_board_csv(Path(got.value.path()).read_text()) == items
    assert pictures[1].max() > 100  # a garment, not an empty tile


def test_a_link_with_a_point_opens_the_explorer_there(page, app_url):
    """The URL the address bar shows for a point (?z1=…&z2=…) reopens the explorer at that point."""
    page.goto(f"{app_url}/latent_explorer?z1=1.5&z2=-1.25")
    frame, _ = latent_pad_painted(page)
    frame.wait_for_function("window.latentPad.z[0] === 1.5 && window.latentPad.z[1] === -1.25", timeout=30_000)
    assert page.locator('input[aria-label="z₁"]').input_value() == "1.500"
    assert "z1=1.500" in page.url and "z2=-1.250" in page.url
