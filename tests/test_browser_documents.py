"""The Clean documents page in a real Chromium: upload a scan and a broken file, inspect, download."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.documents.pairs import sample_pages
from core.render import png_bytes

pytestmark = pytest.mark.browser
SCAN = sample_pages(1, size=(600, 450))[0].noisy


def upload_scan_and_broken_file(page, app_url: str, scan_name: str, broken_name: str) -> None:
    """Open the page and upload the scan and a truncated JPEG under the given names."""
    page.goto(f"{app_url}/clean_documents")
    page.locator('input[type="file"]').set_input_files(files=[
        {"name": scan_name, "mimeType": "image/png", "buffer": png_bytes(Image.fromarray(SCAN, "L"))},
        {"name": broken_name, "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 not really"},
    ])


def test_clean_documents_page_as_a_person_uses_it(page, app_url, tmp_path):
    upload_scan_and_broken_file(page, app_url, "scan.png", "broken.jpg")
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
    assert cleaned.shape == SCAN.shape
    # Cleaning whitens the paper: the median pixel gets lighter than the stained scan's.
    assert np.median(cleaned) > np.median(SCAN)


def test_names_show_as_typed_and_black_and_white_downloads_are_1_bit(page, app_url, tmp_path):
    from pypdf import PdfReader

    upload_scan_and_broken_file(page, app_url, "**bold** $x$\u202egnp.png", "_it_.jpg")
    page.get_by_role("button", name="Download __bold__ $x$gnp.png, clean gray").wait_for(timeout=120_000)
    main = page.locator('[data-testid="stMain"]')
    # File names are code spans: shown as typed, never bold, italic or maths; the bidi override is gone
    # (from all but Streamlit's own list of uploaded files, which shows names as plain text, as sent).
    assert main.locator("strong, em, .katex").count() == 0
    assert "_it_.jpg" in main.locator('[data-testid="stAlert"]').inner_text()
    ours = main.evaluate("m => { const c = m.cloneNode(true); "
                         "c.querySelectorAll('[data-testid=stFileUploader]').forEach(u => u.remove()); "
                         "return c.innerText; }")
    assert "gnp.png" in ours and "\u202e" not in ours

    page.get_by_text("black & white", exact=True).click()
    single_button = page.get_by_role("button", name="Download __bold__ $x$gnp.png, black & white")
    single_button.wait_for(timeout=60_000)  # the last element of the rerun: the ZIP and PDF are black & white too
    with page.expect_download() as single:
        single_button.click()
    assert single.value.suggested_filename == "__bold__ $x$gnp.png"
    single.value.save_as(tmp_path / "page.png")
    assert Image.open(tmp_path / "page.png").mode == "1"
    with page.expect_download() as pdf:
        page.get_by_role("button", name="Download all as one PDF").click()
    assert pdf.value.suggested_filename == "__bold__ $x$gnp-cleaned-bw.pdf"
    pdf.value.save_as(tmp_path / "pages.pdf")
    reader = PdfReader(tmp_path / "pages.pdf")
    image = next(iter(reader.pages[0]["/Resources"]["/XObject"].values())).get_object()
    assert list(image["/Filter"]) == ["/CCITTFaxDecode"] and (image["/Width"], image["/Height"]) == (450, 600)


def test_a_second_person_sees_their_place_in_line_then_their_pages(page, browser, app_url):
    """Two people at once: the second upload waits behind the first whole job, and says so."""
    big = sample_pages(1, size=(3508, 2480))[0].noisy  # A4 at 300 dpi: seconds of cleaning, even on a quiet machine
    page.goto(f"{app_url}/clean_documents")
    page.locator('input[type="file"]').set_input_files(files=[
        {"name": "first.png", "mimeType": "image/png", "buffer": png_bytes(Image.fromarray(big, "L"))}])
    page.get_by_text("Cleaning `first.png`").or_(page.get_by_text("Cleaning first.png")).first.wait_for(timeout=120_000)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        second = context.new_page()
        upload_scan_and_broken_file(second, app_url, "second.png", "broken.jpg")
        second.get_by_text("1 job ahead of yours").wait_for(timeout=60_000)
        second.get_by_role("button", name="Download all 1 page(s) as ZIP").wait_for(timeout=300_000)
        # the first job finished before the second's pages appeared
        assert page.get_by_role("button", name="Download all 1 page(s) as ZIP").count() == 1
    finally:
        context.close()
