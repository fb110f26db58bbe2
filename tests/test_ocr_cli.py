"""``python -m core.clean --pdf --ocr --deskew``: NAME.pdf and NAME.txt per input file (an image, a multi-page
TIFF, a PDF), on the plain path and on Ray, with the real cleaner and OCR."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from core.clean import main
from core.documents.ocr import cer
from core.searchable_pdf import PAGE_BREAK
from tests.ocr_pages import TEXT, crafted_page, turned
from tests.test_archive import local_ray  # noqa: F401  (a fixture)

PAGE, _ = crafted_page(size=(800, 700), px=28)
PAGES = {"letter.pdf": 1, "scan.pdf": 2, "doc.pdf": 2}


def inputs(folder: Path) -> Path:
    """letter.png (sideways and crooked), scan.tif (two pages), doc.pdf (two pages)."""
    folder.mkdir()
    turned(PAGE, 90, 3).save(folder / "letter.png", dpi=(150, 150))
    PAGE.save(folder / "scan.tif", save_all=True, append_images=[PAGE], dpi=(150, 150))
    PAGE.save(folder / "doc.pdf", "PDF", save_all=True, append_images=[PAGE], resolution=150)
    return folder


def check(out: Path) -> None:
    names = sorted(p.name for p in out.iterdir() if p.suffix != ".parquet")
    assert names == ["doc-page001.png", "doc-page002.png", "doc.pdf", "doc.txt", "letter.pdf", "letter.png",
                     "letter.txt", "scan-page001.png", "scan-page002.png", "scan.pdf", "scan.txt"]
    assert Image.open(out / "letter.png").size == (800, 700)  # turned upright before cleaning
    for pdf, count in PAGES.items():
        reader = PdfReader(out / pdf)
        assert len(reader.pages) == count
        texts = (out / pdf).with_suffix(".txt").read_text().split(PAGE_BREAK)
        assert len(texts) == count
        for page, text in zip(reader.pages, texts):
            assert 1 - cer(page.extract_text(), TEXT) >= 0.95, pdf
            assert 1 - cer(text, TEXT) >= 0.95, pdf


def test_the_cli_writes_a_searchable_pdf_and_text_per_file(tmp_path):
    assert main([str(inputs(tmp_path / "in")), "--out", str(tmp_path / "out"), "--pdf", "--ocr", "--deskew",
                 "--quiet"]) == 0
    check(tmp_path / "out")


def test_without_ocr_the_pdf_has_pictures_only_and_no_text_file(tmp_path):
    PAGE.save(tmp_path / "letter.png", dpi=(150, 150))
    assert main([str(tmp_path / "letter.png"), "--out", str(tmp_path / "out"), "--pdf", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["letter.pdf", "letter.png"]
    assert PdfReader(tmp_path / "out" / "letter.pdf").pages[0].extract_text().strip() == ""


@pytest.mark.slow
def test_ray_writes_the_same_searchable_pdfs_and_text(local_ray, tmp_path):  # noqa: F811
    assert main([str(inputs(tmp_path / "in")), "--out", str(tmp_path / "out"), "--pdf", "--ocr", "--deskew",
                 "--ray", "--quiet"]) == 0
    check(tmp_path / "out")


@pytest.mark.slow
def test_pdfs_and_text_follow_the_naming_plan_in_both_paths(local_ray, tmp_path):  # noqa: F811
    """NAME.pdf/NAME.txt take their pages' stems (case-insensitive, Windows-safe, sub-folders kept, never an
    input's name), hold the good pages of a file with a bad one, and no temporary file is left."""
    from tests.test_archive import hostile_names, pages, tree

    scans = tmp_path / "scans"
    hostile_names(scans, *pages(3))
    originals = tree(scans)
    expected = ["A.pdf", "A.png", "A.txt", "CON_.pdf", "CON_.png", "CON_.txt", "a-2.pdf", "a-2.png", "a-2.txt",
                "book-page001.png", "book-page003.png", "book.pdf", "book.txt", "sub/letter.pdf", "sub/letter.png",
                "sub/letter.txt"]
    for out, ray in [(tmp_path / "plain", []), (scans / "cleaned", ["--ray"])]:  # apart from, inside the inputs
        assert main([str(scans), "--out", str(out), "--pdf", "--ocr", "--quiet", *ray]) == 1
        assert sorted(n for n in tree(out) if not n.startswith("manifest")) == expected
        assert len(PdfReader(out / "book.pdf").pages) == 2
        assert (out / "book.txt").read_text().count(PAGE_BREAK) == 1
    assert {n: d for n, d in tree(scans).items() if not n.startswith("cleaned/")} == originals

    # an input inside the output folder is never replaced by a document's PDF
    (tmp_path / "plain" / "old.pdf").write_bytes(originals["book.pdf"])
    assert main([str(tmp_path / "plain" / "old.pdf"), "--out", str(tmp_path / "plain"), "--pdf", "--quiet"]) == 1
    assert (tmp_path / "plain" / "old.pdf").read_bytes() == originals["book.pdf"]
    assert len(PdfReader(tmp_path / "plain" / "old-2.pdf").pages) == 2
