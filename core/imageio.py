"""Decoding user files (images of any common mode, multi-page TIFF, PDF) into grayscale pages.

This is the one entry point for uploads: every failure becomes an ``InputError`` whose message
names the file, says what is wrong and what to do. Nothing is written to disk.
"""
from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.config import IMAGE_SIZE
from core.limits import MAX_PAGES, MAX_PIXELS, MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, PDF_DPI_RANGE

SUPPORTED = "PNG, JPEG, TIFF, GIF, BMP, WebP or PDF"


class InputError(ValueError):
    """A user's file cannot be used; the message is written for the user."""


@dataclass
class Page:
    """One grayscale page ("L" mode) decoded from an upload."""

    image: Image.Image
    label: str
    note: str | None = None


def display_name(filename: str) -> str:
    """A file name safe to show: no folders, control characters, backticks or HTML-significant <>."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = re.sub(r"[\x00-\x1f\x7f`<>]", "", name).strip() or "unnamed file"
    return name if len(name) <= 80 else name[:77] + "..."


def read_upload(data: bytes, filename: str, pdf_dpi: int = 150) -> list[Page]:
    """All pages of one uploaded file as grayscale images."""
    return list(iter_upload(data, filename, pdf_dpi))


def iter_upload(data: bytes, filename: str, pdf_dpi: int = 150) -> Iterator[Page]:
    """Pages of one uploaded file, decoded one at a time (keeps memory bounded for long PDFs)."""
    name = display_name(filename)
    if not data:
        raise InputError(f"`{name}` is empty (0 bytes). Choose the file again, or export it anew.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"`{name}` is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB per file. "
                         "Split it or reduce its resolution.")
    head = data[:1024].lstrip()
    if b"%PDF-" in data[:1024]:
        yield from _pdf_pages(data, name, pdf_dpi)
        return
    if head.startswith(b"<?xml") and b"<svg" in head or head.startswith(b"<svg"):
        raise InputError(f"`{name}` is an SVG drawing, which is not supported: export it as PNG and upload that.")
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"):
        raise InputError(f"`{name}` is a HEIC/HEIF/AVIF photo, which is not supported: "
                         "export it as JPEG or PNG (on a phone: share as 'Most compatible').")
    yield from _image_pages(data, name)


def _image_pages(data: bytes, name: str) -> Iterator[Page]:
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
    except Exception as e:  # counting frames reads the whole file, e.g. every TIFF directory
        raise InputError(_damaged(name, e)) from None
    fmt = img.format or "image"
    multipage = fmt == "TIFF" and frames > 1
    if multipage and frames > MAX_PAGES:
        raise InputError(f"`{name}` has {frames} pages; the limit is {MAX_PAGES} per file. Split it and upload the parts.")
    count = frames if multipage else 1
    note = f"animated {fmt}: the first of its {frames} frames is used" if frames > 1 and not multipage else None
    for i in range(count):
        try:
            img.seek(i)
            if img.width * img.height > MAX_PIXELS:
                raise InputError(_too_many_pixels(name, img.width, img.height))
            page = to_grayscale(img)
        except InputError:
            raise
        except Exception as e:
            raise InputError(_damaged(name, e)) from None
        label = f"{name} page {i + 1}/{count}" if count > 1 else name
        yield Page(page, label, note)


def _damaged(name: str, error: Exception) -> str:
    reason = display_name(str(error))[:80]
    return f"`{name}` is damaged or truncated ({type(error).__name__}: {reason}). Export it again and retry."


def _too_many_pixels(name: str, w: int | None = None, h: int | None = None) -> str:
    size = f" is {w}×{h} pixels," if w else " has too many pixels (a possible decompression bomb);"
    return (f"`{name}`{size} over the limit of {MAX_PIXELS / 1e6:.0f} megapixels per page. "
            "Scan at a lower resolution (300 dpi is plenty) and retry.")


def to_grayscale(img: Image.Image) -> Image.Image:
    """Upright 8-bit grayscale: EXIF orientation applied, transparency on white, 16-bit scaled."""
    img.load()
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        # 16-bit sources come as I;16 or I; floats in [0, 1] are scaled up.
        scale = 1 / 257 if img.mode != "F" or arr.max(initial=0) > 1.0 else 255.0
        return Image.fromarray(np.clip(arr * scale, 0, 255).round().astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if img.mode == "CMYK":
        img = img.convert("RGB")
    return img.convert("L")


def _pdf_pages(data: bytes, name: str, dpi: int) -> Iterator[Page]:
    import pypdfium2 as pdfium

    lo, hi = PDF_DPI_RANGE
    if not lo <= dpi <= hi:
        raise InputError(f"PDF resolution must be between {lo} and {hi} dpi, got {dpi}.")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise InputError(f"`{name}` is password-protected. Open it, save a copy without a password, "
                             "and upload that.") from None
        raise InputError(f"`{name}` is not a readable PDF ({e}). Export it again and retry.") from None
    try:
        n = len(pdf)
        if n == 0:
            raise InputError(f"`{name}` has no pages.")
        if n > MAX_PAGES:
            raise InputError(f"`{name}` has {n} pages; the limit is {MAX_PAGES} pages per PDF. "
                             "Split it and upload the parts.")
        scale = dpi / 72
        for i in range(n):
            try:
                page = pdf[i]
            except pdfium.PdfiumError as e:
                raise InputError(f"`{name}` page {i + 1} could not be read ({e}): the PDF seems damaged. "
                                 "Export it again and retry.") from None
            try:
                w, h = page.get_size()
                if w * h * scale * scale > MAX_PIXELS:
                    raise InputError(_too_many_pixels(name, round(w * scale), round(h * scale)))
                image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
            except pdfium.PdfiumError as e:
                raise InputError(f"`{name}` page {i + 1} could not be rendered ({e}).") from None
            finally:
                page.close()
            yield Page(image, f"{name} page {i + 1}/{n}")
    finally:
        pdf.close()


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
