"""OCR (core.ocr), straightening (core.documents.orient) and searchable PDFs (core.searchable_pdf) on crafted
pages with known text, word boxes and turns."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import img2pdf
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from core.documents.ocr import cer
from core.documents.orient import Turn, apply, detect, straighten
from core.ocr import read, reading_order, text_of
from core.searchable_pdf import add_text
from tests.conftest import ROOT
from tests.ocr_pages import TEXT, crafted_page, turned

PAGE, WORDS = crafted_page()


def similarity(text: str, truth: str = TEXT) -> float:
    return 1 - cer(text, truth)


def searchable(image: Image.Image, dpi: int = 150) -> tuple[bytes, list]:
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(dpi, dpi))
    lines = read(np.asarray(image))
    return add_text(img2pdf.convert(buf.getvalue()), [lines], [image.size]), lines


def test_a_crafted_page_reads_back_with_each_word_where_its_pixels_are():
    lines = read(np.asarray(PAGE))
    assert similarity(text_of(lines)) >= 0.98
    found = {w.text: w.box for line in lines for w in line.words}
    once = [(word, box) for word, box in WORDS if [w for w, _ in WORDS].count(word) == 1]
    for word, (x0, y0, x1, y1) in once:
        if word in found:
            fx0, fy0, fx1, fy1 = found[word]
            inter = max(0, min(x1, fx1) - max(x0, fx0)) * max(0, min(y1, fy1) - max(y0, fy0))
            assert inter >= 0.5 * (x1 - x0) * (y1 - y0), word
    assert sum(w in found for w, _ in once) >= 0.9 * len(once)


def test_reading_order_takes_columns_before_rows_and_table_rows_left_to_right():
    # two columns of text lines under a full-width heading, then a table whose short cells share rows
    heading = [(100, 50, 1900, 100)]
    left = [(100, 150 + 60 * i, 950, 190 + 60 * i) for i in range(5)]
    right = [(1050, 150 + 60 * i, 1900, 190 + 60 * i) for i in range(5)]
    table = [(100 + 600 * c, 600 + 60 * r, 300 + 600 * c, 640 + 60 * r) for r in range(2) for c in range(3)]
    boxes = right + table + left + heading
    order = [boxes[i] for i in reading_order(boxes)]
    assert order == heading + left + right + table


@pytest.mark.parametrize("quarter,skew", [(0, 4.3), (0, -15), (90, 0), (180, -2.5), (270, 15),
                                          pytest.param(0, 1, marks=pytest.mark.slow),
                                          pytest.param(0, -1, marks=pytest.mark.slow),
                                          pytest.param(0, 15, marks=pytest.mark.slow),
                                          pytest.param(90, -7.7, marks=pytest.mark.slow),
                                          pytest.param(180, 0, marks=pytest.mark.slow),
                                          pytest.param(270, -1, marks=pytest.mark.slow)])
def test_a_turned_page_comes_back_upright_and_level_and_its_pdf_text_matches(quarter, skew):
    page, turn = straighten(turned(PAGE, quarter, skew))
    error = (turn.angle + quarter + skew) % 360
    assert min(error, 360 - error) <= 0.3, turn
    assert turn.quarter == (-quarter) % 360 and turn.describe()
    pdf, _ = searchable(page)
    assert similarity(PdfReader(io.BytesIO(pdf)).pages[0].extract_text()) >= 0.95


def test_a_photo_and_a_blank_page_are_left_as_they_are():
    from skimage import data

    photo = Image.fromarray(data.camera()).resize((1024, 1024)).rotate(7, fillcolor=128)
    rng = np.random.default_rng(0)
    blank = Image.fromarray(np.clip(rng.normal(235, 6, (1300, 1000)), 0, 255).astype(np.uint8))
    for image in (photo, blank):
        assert detect(image) == Turn()
        assert straighten(image)[0] is image
        assert not Turn() and Turn().describe() == ""
    assert apply(PAGE, Turn()) is PAGE


def test_pdf_text_lies_over_each_words_pixels_and_opens_in_pypdf_and_pdfium():
    pdf, _ = searchable(PAGE)
    assert similarity(PdfReader(io.BytesIO(pdf)).pages[0].extract_text()) >= 0.98
    doc = pdfium.PdfDocument(pdf)
    textpage = doc[0].get_textpage()
    assert similarity(textpage.get_text_range()) >= 0.98
    height_pt = doc[0].get_height()
    scale = 150 / 72  # page units to the image's pixels
    placed = 0
    for word, (x0, y0, x1, y1) in WORDS:
        searcher = textpage.search(word, match_case=True, match_whole_word=True)
        hits = []
        while (hit := searcher.get_next()) is not None:
            hits.append(hit)
        if len(hits) != 1:
            continue  # "the", "and" ... occur more than once
        start, count = hits[0]
        boxes = np.array([textpage.get_charbox(i) for i in range(start, start + count)])
        left, right = boxes[:, 0].min() * scale, boxes[:, 2].max() * scale
        top, bottom = (height_pt - boxes[:, 3].max()) * scale, (height_pt - boxes[:, 1].min()) * scale
        slack = 0.35 * (y1 - y0)  # the line box is a little taller than the word's ink
        assert x0 - slack <= left and right <= x1 + slack and y0 - 2 * slack <= top and bottom <= y1 + 2 * slack, word
        cx, cy = (left + right) / 2, (top + bottom) / 2
        assert x0 <= cx <= x1 and y0 - slack <= cy <= y1 + slack, word
        placed += 1
    assert placed >= 15


def test_ocr_runs_offline_and_writes_nothing(tmp_path):
    """No network (every proxy a closed port), a read-only home: the models come from the installed wheel."""
    import rapidocr

    PAGE.save(tmp_path / "page.png")
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    watched = [ROOT, os.path.dirname(rapidocr.__file__)]

    def files() -> set:
        return {(p, os.path.getmtime(os.path.join(p, f))) for w in watched for p, dirs, fs in os.walk(w)
                if ".git" not in p and "__pycache__" not in p and ".pytest_cache" not in p for f in fs}

    before = files()
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HOME": str(home), "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed,
           "http_proxy": closed, "https_proxy": closed, "PYTHONDONTWRITEBYTECODE": "1"}
    code = ("import sys, numpy as np; from PIL import Image; from core.ocr import read, text_of; "
            "print(text_of(read(np.asarray(Image.open(sys.argv[1])))))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "page.png")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert similarity(out.stdout) >= 0.98
    assert files() == before


@pytest.mark.parametrize("shape", [(1, 5000), (5000, 1), (1, 1), (40, 20000)])
def test_strips_and_specks_have_no_text_and_stay_as_they_are(shape):
    page = np.zeros(shape, np.uint8)
    assert read(page) == []
    image = Image.fromarray(page)
    assert straighten(image)[0] is image
