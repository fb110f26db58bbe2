"""The Clean documents page in a real Chromium: a sideways, crooked scan is straightened, and its searchable PDF
and text, built on click, hold the page's text."""
import pytest
from pypdf import PdfReader

from core.documents.ocr import cer
from core.render import png_bytes
from tests.ocr_pages import TEXT, crafted_page, turned

pytestmark = pytest.mark.browser


def test_a_sideways_scan_is_straightened_and_its_searchable_pdf_holds_its_text(page, app_url, tmp_path):
    scan = turned(crafted_page(size=(800, 700), px=28)[0], 270, 2)  # a quarter turn clockwise, 2° more
    page.goto(f"{app_url}/clean_documents")
    page.locator('input[type="file"]').set_input_files(files=[
        {"name": "letter.png", "mimeType": "image/png", "buffer": png_bytes(scan)}])
    searchable = page.get_by_role("button", name="Download searchable PDF")
    searchable.wait_for(timeout=180_000)
    page.get_by_text("Straightened: turned 90° anticlockwise and straightened by 2.0° clockwise.").wait_for(
        timeout=60_000)

    with page.expect_download(timeout=180_000) as pdf:
        searchable.click()
    assert pdf.value.suggested_filename == "letter-cleaned-searchable.pdf"
    pdf.value.save_as(tmp_path / "letter.pdf")
    reader = PdfReader(tmp_path / "letter.pdf")
    assert len(reader.pages) == 1 and 1 - cer(reader.pages[0].extract_text(), TEXT) >= 0.95
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert width > height  # upright: the crafted page is landscape

    with page.expect_download(timeout=180_000) as text:
        page.get_by_role("button", name="Download text").click()
    assert text.value.suggested_filename == "letter-cleaned.txt"
    text.value.save_as(tmp_path / "letter.txt")
    assert 1 - cer((tmp_path / "letter.txt").read_text(), TEXT) >= 0.95
