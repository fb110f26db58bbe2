"""Decoding user files (images of any common mode, multi-page TIFF, PDF) into grayscale pages.

This is the one entry point for uploads: every failure becomes an ``InputError`` whose message
names the file, says what is wrong and what to do. Nothing is written to disk. ``open_upload`` checks
every limit (bytes, pages, pixels per page, pixels per file, images drawn inside PDF pages) before any
page is decoded; pages are then decoded one at a time, so memory holds one page whatever the file holds.
"""
from __future__ import annotations

import io
import math
import re
import unicodedata
import warnings
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from core.config import IMAGE_SIZE
from core.limits import (MAX_FILE_PIXELS, MAX_ICC_PROFILE_BYTES, MAX_PAGES, MAX_PIXELS,
                         MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, PDF_DPI_DEFAULT, PDF_DPI_RANGE, megapixels)

SUPPORTED = "PNG, JPEG, TIFF, GIF, BMP, WebP or PDF"
# ISO base-media brands (bytes 8-12) of HEIC, HEIF and AVIF photos, which Pillow cannot open.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif")
# Pillow refuses PNG metadata chunks over 1 MB, and colour profiles can be larger (they are dropped anyway).
PngImagePlugin.MAX_TEXT_CHUNK = max(PngImagePlugin.MAX_TEXT_CHUNK, MAX_ICC_PROFILE_BYTES)
# pdfium is not thread-safe: every call into it (open, inspect, render, close) holds this lock.
_PDFIUM = threading.RLock()


class InputError(ValueError):
    """A user's file cannot be used; the message is written for the user."""


@dataclass
class Page:
    """One grayscale page ("L" mode) decoded from an upload: page ``index`` of ``count`` in file ``source``."""

    image: Image.Image
    source: str
    index: int = 0
    count: int = 1
    note: str | None = None
    dpi: float = PDF_DPI_DEFAULT  # the page's resolution, for writing it into a PDF at its size

    @property
    def label(self) -> str:
        """How the page is named to people: the file name, plus "page i/n" for multi-page files."""
        return f"{self.source} page {self.index + 1}/{self.count}" if self.count > 1 else self.source


@dataclass
class Upload:
    """One opened file whose pages are decoded on demand, one at a time (``page(i)``, or iterate)."""

    name: str  # display name
    sizes: list[tuple[int, int]]  # (width, height) in pixels of every page, known before decoding
    decode: Callable[[int], Image.Image] = field(repr=False)
    close: Callable[[], None] = field(repr=False, default=lambda: None)
    note: str | None = None
    dpi: float = PDF_DPI_DEFAULT

    @property
    def count(self) -> int:
        return len(self.sizes)

    @property
    def pixels(self) -> int:
        """Decoded pixels of all pages together."""
        return sum(w * h for w, h in self.sizes)

    def page(self, index: int) -> Page:
        """Decode page ``index`` (0-based)."""
        try:
            image = self.decode(index)
        except InputError:
            raise
        except Exception as e:  # Pillow and pdfium raise many types on damaged data
            raise InputError(_damaged(self.name, e)) from None
        return Page(image, self.name, index, self.count, self.note, self.dpi)

    def __iter__(self) -> Iterator[Page]:
        return (self.page(i) for i in range(self.count))

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def display_name(filename: str) -> str:
    """A file name safe to show: no folders, control or bidi-override characters, backticks or <>."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf") and c not in "`<>").strip()
    name = name or "unnamed file"
    return name if len(name) <= 80 else name[:77] + "..."


def read_upload(data: bytes, filename: str, pdf_dpi: int = PDF_DPI_DEFAULT) -> list[Page]:
    """All pages of one uploaded file as grayscale images (for small files; see ``open_upload``)."""
    with open_upload(data, filename, pdf_dpi) as upload:
        return list(upload)


def open_upload(data: bytes, filename: str, pdf_dpi: int = PDF_DPI_DEFAULT, left: int | None = None) -> Upload:
    """Open one uploaded file and check every limit before decoding any page.

    ``left``: pixels still allowed in this job (an upload of many files on the page); None for no job."""
    name = display_name(filename)
    if not data:
        raise InputError(f"`{name}` is empty (0 bytes). Choose the file again, or export it anew.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"`{name}` is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB per file. "
                         "Split it or reduce its resolution.")
    head, is_pdf = data[:1024].lstrip(), b"%PDF-" in data[:1024]
    if is_pdf:
        upload = _open_pdf(data, name, pdf_dpi)
    elif head.startswith(b"<?xml") and b"<svg" in head or head.startswith(b"<svg"):
        raise InputError(f"`{name}` is an SVG drawing, which is not supported: export it as PNG and upload that.")
    elif data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        raise InputError(f"`{name}` is a HEIC/HEIF/AVIF photo, which is not supported: "
                         "export it as JPEG or PNG (on a phone: share as 'Most compatible').")
    else:
        upload = _open_image(data, name)
    try:
        _check_budget(upload, pdf_dpi if is_pdf else None, left)
    except InputError:
        upload.close()
        raise
    return upload


def _check_budget(upload: Upload, pdf_dpi: int | None, left: int | None) -> None:
    total, name, n = upload.pixels, upload.name, upload.count
    if total > MAX_FILE_PIXELS:
        biggest = max(w * h for w, h in upload.sizes)
        per_part = max(1, MAX_FILE_PIXELS // biggest)
        advice = f"Split it into parts of at most {per_part} page(s)"
        if pdf_dpi:
            fits = math.floor(pdf_dpi * math.sqrt(MAX_FILE_PIXELS / total))
            lo = PDF_DPI_RANGE[0]
            advice = (f"It fits at {fits} dpi or less; or split it into parts of at most {per_part} page(s)"
                      if fits >= lo else
                      f"{advice} ({max(1, int(MAX_FILE_PIXELS // (biggest * (lo / pdf_dpi) ** 2)))} at {lo} dpi)")
        where = f" at {pdf_dpi} dpi" if pdf_dpi else ""
        raise InputError(f"`{name}` is {megapixels(total)} megapixels{where} ({n} pages), over the limit of "
                         f"{MAX_FILE_PIXELS / 1e6:.0f} megapixels per file. {advice}, and retry.")
    if left is not None and total > left:
        raise InputError(f"`{name}` ({megapixels(total)} megapixels) does not fit in what is left of this "
                         f"upload's budget ({megapixels(max(left, 0))} megapixels): clean it in an upload of its own.")


def _open_image(data: bytes, name: str) -> Upload:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(_too_many_pixels(name)) from None
    except UnidentifiedImageError:
        raise InputError(f"`{name}` is not an image this app can read. Upload a {SUPPORTED} file.") from None
    except Exception as e:  # Pillow raises many types on malformed headers
        raise InputError(f"`{name}` could not be read ({type(e).__name__}): the file seems damaged. "
                         "Export it again and retry.") from None
    try:
        frames = getattr(img, "n_frames", 1)
        multipage = img.format == "TIFF" and frames > 1
        if multipage and frames > MAX_PAGES:
            raise InputError(f"`{name}` has {frames} pages; the limit is {MAX_PAGES} per file. "
                             "Split it and upload the parts.")
        sizes = []
        for i in range(frames if multipage else 1):
            img.seek(i)
            if img.width * img.height > MAX_PIXELS:
                raise InputError(_too_many_pixels(name, img.width, img.height, i if multipage else None))
            sizes.append(img.size)
    except InputError:
        raise
    except Exception as e:  # counting frames reads the whole file, e.g. every TIFF directory
        raise InputError(_damaged(name, e)) from None
    note = f"animated {img.format}: the first of its {frames} frames is used" if frames > 1 and not multipage else None
    dpi = img.info.get("dpi", (0,))[0]
    img.close()

    def decode(i: int) -> Image.Image:
        # A fresh reader per page: the decoded source (e.g. RGB) is freed once its gray page exists.
        with Image.open(io.BytesIO(data)) as frame:
            frame.seek(i)
            return to_grayscale(frame)

    good_dpi = isinstance(dpi, (int, float)) and 30 <= dpi <= 2400
    return Upload(name, sizes, decode, note=note, dpi=float(dpi) if good_dpi else PDF_DPI_DEFAULT)


def _damaged(name: str, error: Exception) -> str:
    reason = display_name(str(error))[:80]
    return f"`{name}` is damaged or truncated ({type(error).__name__}: {reason}). Export it again and retry."


def _too_many_pixels(name: str, w: int | None = None, h: int | None = None, page: int | None = None) -> str:
    where = f"`{name}` page {page + 1}" if page is not None else f"`{name}`"
    if not w:
        return (f"{where} has too many pixels (a possible decompression bomb), over the limit of "
                f"{MAX_PIXELS / 1e6:.0f} megapixels per page. Scan at a lower resolution and retry.")
    s = math.sqrt(MAX_PIXELS / (w * h))
    return (f"{where} is {w}×{h} pixels ({megapixels(w * h)} megapixels), over the limit of "
            f"{MAX_PIXELS / 1e6:.0f} megapixels per page. Resize it to at most {max(1, math.floor(w * s))}×"
            f"{max(1, math.floor(h * s))} pixels (or scan at a lower resolution) and retry.")


def to_grayscale(img: Image.Image) -> Image.Image:
    """Upright 8-bit grayscale: EXIF orientation applied, transparency on white, 16-bit scaled, colour
    profile and other metadata dropped (a gray page must not carry an RGB profile)."""
    img.load()
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        with np.errstate(invalid="ignore"):  # widening a signalling NaN flags it; it stays NaN, read as paper
            arr = np.asarray(img, dtype=np.float64)
        finite = np.isfinite(arr)
        # 16-bit sources come as I;16 or I; floats in [0, 1] are scaled up. A float page's NaN or infinite
        # pixels (no data) become paper, never ink.
        scale = 1 / 257 if img.mode != "F" or arr[finite].max(initial=0) > 1.0 else 255.0
        arr = np.where(finite, arr * scale, 255.0)
        gray = Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8), "L")
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        gray = Image.alpha_composite(white, rgba).convert("L")
    else:
        gray = (img.convert("RGB") if img.mode == "CMYK" else img).convert("L")
    gray.info = {}
    return gray


def _open_pdf(data: bytes, name: str, dpi: int) -> Upload:
    import pypdfium2 as pdfium

    lo, hi = PDF_DPI_RANGE
    if not lo <= dpi <= hi:
        raise InputError(f"PDF resolution must be between {lo} and {hi} dpi, got {dpi}.")
    scale = dpi / 72
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            if "password" in str(e).lower():
                raise InputError(f"`{name}` is password-protected. Open it, save a copy without a password, "
                                 "and upload that.") from None
            raise InputError(f"`{name}` is not a readable PDF ({e}). Export it again and retry.") from None
        try:
            sizes = _pdf_sizes(pdf, name, dpi)
        except InputError:
            pdf.close()
            raise
        except pdfium.PdfiumError as e:
            pdf.close()
            raise InputError(f"`{name}` could not be read ({e}): the PDF seems damaged. "
                             "Export it again and retry.") from None

    def decode(i: int) -> Image.Image:
        with _PDFIUM:
            page = pdf[i]
            try:
                return page.render(scale=scale, grayscale=True).to_pil().convert("L")
            except pdfium.PdfiumError as e:
                raise InputError(f"`{name}` page {i + 1} could not be rendered ({e}).") from None
            finally:
                page.close()

    def close() -> None:
        with _PDFIUM:
            pdf.close()

    return Upload(name, sizes, decode, close, dpi=float(dpi))


def _pdf_sizes(pdf, name: str, dpi: int) -> list[tuple[int, int]]:
    """Every page's size in pixels at ``dpi``, once the page count, each page's size and the images each
    page draws (pdfium decodes those in full, whatever the page's size) are within the limits."""
    import pypdfium2.raw as pdfium_c

    n, scale = len(pdf), dpi / 72
    if n == 0:
        raise InputError(f"`{name}` has no pages.")
    if n > MAX_PAGES:
        raise InputError(f"`{name}` has {n} pages; the limit is {MAX_PAGES} pages per PDF. "
                         "Split it and upload the parts.")
    sizes = []
    for i in range(n):
        w_pt, h_pt = pdf.get_page_size(i)
        w, h = math.ceil(w_pt * scale), math.ceil(h_pt * scale)
        if w * h > MAX_PIXELS:
            raise InputError(_pdf_page_too_big(name, i, w_pt, h_pt, dpi))
        sizes.append((w, h))
    for i in range(n):
        page = pdf[i]
        try:
            drawn = [obj.get_px_size() for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))]
        finally:
            page.close()
        if sum(w * h for w, h in drawn) > MAX_PIXELS:
            w, h = max(drawn, key=lambda s: s[0] * s[1])
            raise InputError(f"`{name}` page {i + 1} draws images of {megapixels(sum(a * b for a, b in drawn))} "
                             f"megapixels (the largest {w}×{h}), over the limit of {MAX_PIXELS / 1e6:.0f} "
                             "megapixels per page. Export the PDF with smaller images and retry.")
    return sizes


def _pdf_page_too_big(name: str, index: int, w_pt: float, h_pt: float, dpi: int) -> str:
    fits = math.floor(72 * math.sqrt(MAX_PIXELS / (w_pt * h_pt)))
    advice = (f"It fits at {fits} dpi or less: pick a lower PDF resolution." if fits >= PDF_DPI_RANGE[0] else
              f"It does not fit even at {PDF_DPI_RANGE[0]} dpi, the lowest offered (it would need {fits} dpi): "
              "print or export it to a smaller paper size and retry.")
    return (f"`{name}` page {index + 1} is {w_pt / 72:.1f}×{h_pt / 72:.1f} inches: "
            f"{math.ceil(w_pt * dpi / 72)}×{math.ceil(h_pt * dpi / 72)} pixels at {dpi} dpi "
            f"({megapixels(w_pt * h_pt * (dpi / 72) ** 2)} megapixels), over the limit of "
            f"{MAX_PIXELS / 1e6:.0f} megapixels per page. {advice}")


def gray_to_float(img: Image.Image) -> np.ndarray:
    """An "L" image as a float32 2-D array in [0, 1]."""
    return np.asarray(img, dtype=np.float32) / 255.0


def to_fashion_item(img: Image.Image) -> np.ndarray:
    """Convert any grayscale picture into a 28×28 Fashion-MNIST-like item: light object on black, centred."""
    x = gray_to_float(img)
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # Fashion-MNIST objects are light on a dark background
        x, background = 1.0 - x, 1.0 - background
    x = np.clip(x - background, 0.0, 1.0)
    rows, cols = np.nonzero(x > 0.1)
    if rows.size:
        x = x[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    side = max(x.shape)
    square = np.zeros((side, side), np.float32)
    top, left = (side - x.shape[0]) // 2, (side - x.shape[1]) // 2
    square[top : top + x.shape[0], left : left + x.shape[1]] = x
    if x.max() > 0:
        square /= square.max()
    item = Image.fromarray(square, "F").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(item, dtype=np.float32), 0.0, 1.0)
