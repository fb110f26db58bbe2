"""The Denoise page in a real Chromium: pick, slide, upload, download — and check what is painted."""
import io
import json

import numpy as np
import pytest
from PIL import Image


pytestmark = pytest.mark.browser


def psnr_values(pg) -> list[str]:
    return pg.locator('[data-testid="stMetricValue"]').all_inner_texts()


def test_denoise_page_as_a_person_uses_it(page, app_url, tmp_path):
    page.goto(f"{app_url}/denoise")
    page.locator('[data-testid="stMetricValue"]').nth(3).wait_for(timeout=90_000)
    # clean, noisy, median, autoencoder: painted as PNG (JPEG would blur the crisp pixels)
    page.wait_for_function("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length >= 4",
                           timeout=60_000)
    assert all(src.endswith(".png") for src in page.evaluate("[...document.images].map(i => i.src)"))
    before = psnr_values(page)

    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(15):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".map(e => e.innerText)) !== before", arg=json.dumps(before, separators=(",", ":")), timeout=30_000)
    assert psnr_values(page) != before

    with page.expect_download() as download:
        page.get_by_role("button", name="Download side by side (PNG)").click()
    saved = tmp_path / "comparison.png"
    download.value.save_as(saved)
    picture = np.asarray(Image.open(saved))
    assert picture.shape[0] == 28 * 8 and picture.std() > 10  # four real panels, not a blank

    page.get_by_text("Upload your own image").click()
    buf = io.BytesIO()
    Image.new("L", (90, 120), 230).save(buf, "PNG")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "item.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.get_by_text("as a 28×28 Fashion-MNIST item").wait_for(timeout=30_000)

    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "<b>notes</b>.png", "mimeType": "image/png", "buffer": b"plain text"}])
    alert = page.get_by_text("is not an image this app can read")
    alert.wait_for(timeout=30_000)
    assert "<b>" not in alert.inner_text()
    assert page.locator("b", has_text="notes").count() == 0  # the name was never rendered as HTML
