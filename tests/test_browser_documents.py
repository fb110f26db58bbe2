"""The Clean documents page in a real Chromium: upload a scan and a broken file, inspect, download."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.documents.pairs import sample_pages
from core.render import png_bytes

pytestmark = pytest.mark.browser


def test_clean_documents_page_as_a_person_uses_it(page, app_url, tmp_path):
    scan = sample_pages(1, size=(600, 450))[0].noisy
    page.goto(f"{app_url}/clean_documents")
    page.locator('input[type="file"]').set_input_files(files=[
        {"name": "scan.png", "mimeType": "image/png", "buffer": png_bytes(Image.fromarray(scan, "L"))},
        {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 not really"},
    ])
    zip_button = page.get_by_role("button", name="Download all 1 page(s) as ZIP")
    zip_button.wait_for(timeout=120_000)
    assert page.get_by_text("`broken.jpg`").count() + page.get_by_text("broken.jpg").count() >= 1
    # before, after and the two zoomed crops are painted
    page.wait_for_function("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length >= 4",
                           timeout=60_000)

    with page.expect_download() as download:
        zip_button.click()
    saved = tmp_path / "pages.zip"
    download.value.save_as(saved)
    archive = zipfile.ZipFile(saved)
    assert archive.namelist() == ["scan.png"]
    cleaned = np.asarray(Image.open(io.BytesIO(archive.read("scan.png"))))
    assert cleaned.shape == scan.shape
    # Cleaning whitens the paper: the median pixel gets lighter than the stained scan's.
    assert np.median(cleaned) > np.median(scan)
