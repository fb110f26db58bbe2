"""Streamlit AppTest of the Clean documents page: uploads (PNG, a PDF made here, a broken file) and samples."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.documents import pairs as P
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "clean_documents.py")


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_good_png_pdf_and_broken_file_in_one_upload():
    noisy = P.held_out_pairs(1)[0].noisy[:240, :200]
    pdf = io.BytesIO()
    Image.fromarray(noisy).save(pdf, "PDF", save_all=True, append_images=[Image.fromarray(noisy[::-1])], resolution=72)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception
    at.file_uploader[0].set_value([("scan.png", png(noisy), "image/png"),
                                   ("letter.pdf", pdf.getvalue(), "application/pdf"),
                                   ("broken.jpg", b"\xff\xd8\xff\xe0 truncated", "image/jpeg")])
    at.select_slider[0].set_value(72)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "`broken.jpg`" in at.error[0].value
    assert at.selectbox[0].options == ["scan.png", "letter.pdf page 1/2", "letter.pdf page 2/2"]
    assert len(at.image) == 4  # before/after and the zoomed crops
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download all 3 page(s) as ZIP", "Download all as one PDF", "Download searchable PDF",
                      "Download text", "Download `scan.png`, clean gray"]
    at.selectbox[0].set_value("letter.pdf page 2/2").run()
    assert not at.exception
    assert at.get("download_button")[-1].label == "Download `letter-page002.png`, clean gray"


@pytest.mark.slow
def test_sample_pages_need_no_upload_and_are_the_same_each_visit():
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    at.radio[0].set_value("Try sample pages").run()
    assert not at.exception and not at.error
    assert len(at.selectbox[0].options) == 3
    first = P.sample_pages(1)[0]
    assert np.array_equal(first.noisy, P.sample_pages(1)[0].noisy)


def test_output_names_follow_the_source_file():
    from core.naming import NamePlan, page_name, stem_of

    plan = NamePlan()
    sources = [("letter.pdf", 0, 1), ("letter.png", 0, 1), ("scan.tif", 1, 3), ("photo.jpeg", 0, 1),
               ("letter.pdf", 0, 1)]
    names = [page_name(plan.claim("", name), index, count) for name, index, count in sources]
    assert names == ["letter.png", "letter-2.png", "scan-page002.png", "photo.png", "letter-3.png"]
    assert stem_of(".hidden") == "hidden" and stem_of("") == "page"
    assert stem_of('a:b*c?"d|.tif') == "a_b_c__d_"  # names every file system takes


def test_zip_keeps_names_and_order():
    from core.serving.documents import zip_bytes

    archive = zipfile.ZipFile(io.BytesIO(zip_bytes([("a.png", b"1"), ("b.png", b"2")])))
    assert archive.namelist() == ["a.png", "b.png"] and archive.read("b.png") == b"2"


def test_a_full_line_says_the_server_is_busy_and_the_next_upload_is_cleaned():
    import threading

    from core import limits
    from core.serving.documents import DOCUMENT_JOBS

    gate = threading.Event()
    held = [DOCUMENT_JOBS.submit(lambda t: gate.wait(60)) for _ in range(limits.MAX_QUEUED_JOBS)]
    try:
        noisy = P.held_out_pairs(1)[0].noisy[:120, :100]
        at = AppTest.from_file(PAGE, default_timeout=180).run()
        at.file_uploader[0].set_value([("scan.png", png(noisy), "image/png")]).run()
        assert not at.exception
        assert len(at.warning) == 1 and "server is busy" in at.warning[0].value and "try again" in at.warning[0].value
        assert not at.get("download_button")
    finally:
        gate.set()
        for ticket in held:
            ticket.wait(poll=0.01)
    at.run()  # the same upload, once the line has room
    assert not at.exception and not at.warning
    assert [b.label for b in at.get("download_button")][0] == "Download all 1 page(s) as ZIP"
