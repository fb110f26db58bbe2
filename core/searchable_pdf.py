"""Searchable PDFs: each cleaned page's image (img2pdf, as ``core.serving.documents.pdf_bytes`` writes it) with
the recognised words laid over it as invisible text (render mode 3), each word stretched over its own pixels so a
viewer's selection highlights it; the text layer is drawn with reportlab and stamped on with pikepdf."""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np

from core.ocr import BOX_MARGIN, DEFAULT_ENGINE, Line, read, text_of

FONT = "Helvetica"  # one of PDF's standard fonts: nothing embedded; the text is never drawn
ASCENT, DESCENT = 0.718, -0.207  # Helvetica's, per unit of font size: the box viewers highlight
INVISIBLE = 3  # PDF text render mode: neither fill nor stroke
MIN_SPACE = 0.3  # the least space kept between words, per unit of font size (Helvetica's own is 0.278): word boxes
# from the recogniser's character positions can touch, and pdfium reads a space under 0.25 as none (a word gives
# up at most half its width for it)
PAGE_BREAK = "\f"  # between pages in the plain text (as pdftotext and Tesseract write it)


def ocr_page(page, mode: str = "gray", engine: str = DEFAULT_ENGINE) -> list[Line]:
    """The text lines of a cleaned page (``core.serving.documents.CleanedPage``): read from its clean gray image
    when it has one, else from the ``mode`` image it has."""
    has_gray = page.pixels is not None or "gray" in page.pngs
    return read(np.asarray(page.image("gray" if has_gray else mode).convert("L")), engine)


def _placement(page) -> tuple[float, float, float, float]:
    """(a, d, e, f) of the ``cm`` that draws a page's image: its width, height and lower-left corner."""
    import pikepdf

    for operands, operator in pikepdf.parse_content_stream(page):
        if operator == pikepdf.Operator("cm"):
            a, _, _, d, e, f = map(float, operands)
            return a, d, e, f
    box = [float(v) for v in page.mediabox]
    return box[2] - box[0], box[3] - box[1], box[0], box[1]


def _safe(text: str) -> str:
    # the standard fonts encode WinAnsi: anything else becomes "?"
    return text.encode("cp1252", "replace").decode("cp1252")


def _text_layer(canvas, lines: Sequence[Line], size_px: tuple[int, int], place: tuple[float, ...]) -> None:
    """One page of invisible words on a reportlab canvas, placed over their pixels."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    w, h = size_px
    a, d, e, f = place
    x = lambda px: e + a * px / w  # noqa: E731  image pixels -> page units
    y = lambda py: f + d * (1 - py / h)  # noqa: E731
    text = canvas.beginText()
    text.setTextRenderMode(INVISIBLE)
    for line in lines:
        inset = BOX_MARGIN * (y(line.box[1]) - y(line.box[3]))
        top, bottom = y(line.box[1]) - inset, y(line.box[3]) + inset  # the ink's part of the line box
        size = max((top - bottom) / (ASCENT - DESCENT), 0.1)
        text.setFont(FONT, size)
        words = [(word, _safe(word.text)) for word in line.words if word.text]
        for k, (word, s) in enumerate(words):
            x0, x1 = x(word.box[0]), x(word.box[2])
            if k + 1 < len(words):
                x1 = max(min(x1, x(words[k + 1][0].box[0]) - MIN_SPACE * size), (x0 + x1) / 2)
            text.setTextOrigin(x0, bottom - DESCENT * size)
            text.setHorizScale(100 * max(x1 - x0, 0.01) / max(stringWidth(s, FONT, size), 0.01))
            text.textOut(s)
            if k + 1 < len(words):  # a space stretched over the gap, so the words extract apart
                gap = x(words[k + 1][0].box[0]) - x1
                text.setHorizScale(100 * max(gap, 0.01) / stringWidth(" ", FONT, size))
                text.textOut(" ")
    canvas.drawText(text)


def add_text(pdf: bytes, pages_lines: Sequence[Sequence[Line]], sizes: Sequence[tuple[int, int]]) -> bytes:
    """``pdf`` (one image per page, as img2pdf writes it) with each page's lines laid invisibly over its image;
    ``sizes`` are the images' (width, height) in the pixels the lines' boxes are in."""
    import pikepdf
    from reportlab.pdfgen.canvas import Canvas

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if len(doc.pages) != len(pages_lines):
            raise ValueError(f"{len(doc.pages)} PDF page(s) but text for {len(pages_lines)}")
        buf = io.BytesIO()
        canvas = Canvas(buf, invariant=True)
        for page, lines, size in zip(doc.pages, pages_lines, sizes):
            box = [float(v) for v in page.mediabox]
            canvas.setPageSize((box[2] - box[0], box[3] - box[1]))
            _text_layer(canvas, lines, size, _placement(page))
            canvas.showPage()
        canvas.save()
        with pikepdf.open(io.BytesIO(buf.getvalue())) as layer:
            for page, text in zip(doc.pages, layer.pages):
                page.add_overlay(text)
        out = io.BytesIO()
        doc.save(out, compress_streams=True)
    return out.getvalue()


def read_pages(pages: Sequence, mode: str = "gray", engine: str = DEFAULT_ENGINE,
               progress: Callable[[float], None] | None = None) -> None:
    """Read the text of every cleaned page (``CleanedPage``) not read yet, into its ``lines``."""
    for i, page in enumerate(pages):
        if page.lines is None:
            page.lines = ocr_page(page, mode, engine)
        if progress:
            progress((i + 1) / len(pages))


def plain_text(pages: Sequence) -> str:
    """The text of read pages, a form feed between pages."""
    return PAGE_BREAK.join(text_of(page.lines or []) + "\n" for page in pages)


def document(pages: Sequence, mode: str = "gray", engine: str = DEFAULT_ENGINE,
             progress: Callable[[float], None] | None = None) -> tuple[bytes, str]:
    """A document's cleaned pages (``CleanedPage``) read and written as (searchable PDF, plain text)."""
    from core.serving.documents import pdf_bytes

    read_pages(pages, mode, engine, progress)
    pdf = add_text(pdf_bytes(list(pages), mode), [p.lines for p in pages], [p.size for p in pages])
    return pdf, plain_text(pages)


def document_files(pages: Sequence, stem: str, mode: str, pdf: bool, ocr: bool, engine: str = DEFAULT_ENGINE
                   ) -> list[tuple[str, bytes]]:
    """(name, content) of one document's files (``core.naming.document_names``): ``stem.pdf`` (``pdf``;
    searchable with ``ocr``) and ``stem.txt`` (``ocr``), its pages in order."""
    from core.naming import document_names
    from core.serving.documents import pdf_bytes

    if not pages or not (pdf or ocr):
        return []
    if not ocr:
        return list(zip(document_names(stem, pdf, ocr), [pdf_bytes(list(pages), mode)]))
    data, text = document(pages, mode, engine)
    return list(zip(document_names(stem, pdf, ocr), ([data] if pdf else []) + [text.encode()]))
