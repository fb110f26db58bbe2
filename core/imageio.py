"""Decoding user files (images of any common mode, multi-page TIFF, PDF) into grayscale pages.

This is the one entry point for uploads: every failure becomes an ``InputError`` whose message
names the file, says what is wrong and what to do. Nothing is written to disk. ``open_upload`` checks
every limit (bytes, pages, pixels per page, pixels per file, images drawn inside PDF pages, in annotations,
patterns and soft masks too) before any page is decoded; pages are then decoded one at a time, so memory
holds one page whatever the file holds. With ``whole=False`` (the command line and Ray) a file may have any
size and page count: only the per-page limits apply, and a page over them is refused on its own.
"""
from __future__ import annotations

import io
import math
import re
import struct
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
    refused: dict[int, str] = field(default_factory=dict)  # pages known to be over a limit: their message
    first: int | None = None  # a page cut out of a longer PDF: its page number there, less one

    @property
    def count(self) -> int:
        return len(self.sizes)

    @property
    def pixels(self) -> int:
        """Decoded pixels of all pages together."""
        return sum(w * h for w, h in self.sizes)

    def page(self, index: int) -> Page:
        """Decode page ``index`` (0-based)."""
        if index in self.refused:
            raise InputError(self.refused[index])
        try:
            image = self.decode(index)
        except InputError:
            raise
        except Exception as e:  # Pillow and pdfium raise many types on damaged data
            raise InputError(_damaged(self.name, e, self.number(index))) from None
        return Page(image, self.name, index, self.count, self.note, self.dpi)

    def number(self, index: int) -> int | None:
        """Page ``index``'s 0-based number in the document, for messages; None for a one-page file."""
        return index + (self.first or 0) if self.first is not None or self.count > 1 else None

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


def open_upload(data: bytes, filename: str, pdf_dpi: int = PDF_DPI_DEFAULT, left: int | None = None, *,
                whole: bool = True, first: int | None = None) -> Upload:
    """Open one uploaded file and check every limit before decoding any page.

    ``left``: pixels still allowed in this job (an upload of many files on the page); None for no job.
    ``whole``: the app's per-file limits apply and any page over a limit refuses the file; False: any size
    and page count, a page over a per-page limit is refused alone when decoded. ``first``: the file is a
    page cut out of a longer PDF, whose page ``first + 1`` it is (for page numbers in messages)."""
    name = display_name(filename)
    if not data:
        raise InputError(f"`{name}` is empty (0 bytes). Choose the file again, or export it anew.")
    if whole and len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"`{name}` is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB per file. "
                         "Split it or reduce its resolution.")
    head, is_pdf = data[:1024].lstrip(), is_pdf_data(data)
    if is_pdf:
        upload = _open_pdf(data, name, pdf_dpi, whole, first)
    elif head.startswith(b"<?xml") and b"<svg" in head or head.startswith(b"<svg"):
        raise InputError(f"`{name}` is an SVG drawing, which is not supported: export it as PNG and upload that.")
    elif data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        raise InputError(f"`{name}` is a HEIC/HEIF/AVIF photo, which is not supported: "
                         "export it as JPEG or PNG (on a phone: share as 'Most compatible').")
    else:
        upload = _open_image(data, name, whole)
    if not whole:
        return upload
    try:
        if upload.refused:
            raise InputError(upload.refused[min(upload.refused)])
        _check_budget(upload, pdf_dpi if is_pdf else None, left)
    except InputError:
        upload.close()
        raise
    return upload


# Signatures of the image formats read here: such a file is an image even when "%PDF-" appears in its first
# kilobyte (e.g. in a PNG text chunk), where a PDF may start after some junk.
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"II+\x00",
               b"MM\x00+", b"BM")


def is_pdf_data(data: bytes) -> bool:
    """Whether ``data`` is a PDF (its header in the first kilobyte) rather than an image."""
    if data.startswith(IMAGE_MAGIC) or data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return False
    return b"%PDF-" in data[:1024]


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


def tiff_pages(data: bytes, limit: int | None = None) -> list[tuple[int, int]]:
    """(width, height) of every page of a TIFF (classic or BigTIFF), read from its directories in linear
    time; stops after ``limit + 1`` pages (Pillow's frame count takes quadratic time: 100,000 pages, 90 s).
    A size it cannot read is (0, 0); Pillow checks that page when it decodes it."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 16:
        return []
    big = struct.unpack(order + "H", data[2:4])[0] == 43
    count_fmt, entry, off_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")
    offset = struct.unpack(order + off_fmt, data[8:16] if big else data[4:8])[0]
    sizes, seen = [], set()
    head, val_size = struct.calcsize(count_fmt), 8 if big else 4
    while offset and offset not in seen and offset + head <= len(data) and (limit is None or len(sizes) <= limit):
        seen.add(offset)
        n = struct.unpack_from(order + count_fmt, data, offset)[0]
        end = offset + head + n * entry
        if end + val_size > len(data):
            break
        dims = {}
        for k in range(n):
            at = offset + head + k * entry
            tag, kind = struct.unpack_from(order + "HH", data, at)
            if tag in (256, 257) and kind in (3, 4, 16):  # ImageWidth, ImageLength as SHORT, LONG or LONG8
                fmt = {3: "H", 4: "I", 16: "Q"}[kind]
                dims[tag] = struct.unpack_from(order + fmt, data, at + 4 + (8 if big else 4))[0]
        sizes.append((dims.get(256, 0), dims.get(257, 0)))
        offset = struct.unpack_from(order + off_fmt, data, end)[0]
    return sizes


def _open_image(data: bytes, name: str, whole: bool = True) -> Upload:
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
    refused = {}
    try:
        if img.format == "TIFF":
            sizes = tiff_pages(data, MAX_PAGES if whole else None) or [img.size]
            frames, multipage = len(sizes), len(sizes) > 1
            if whole and frames > MAX_PAGES:
                raise InputError(f"`{name}` has more than {MAX_PAGES} pages; the limit is {MAX_PAGES} per file. "
                                 "Split it and upload the parts.")
        else:
            frames, multipage, sizes = getattr(img, "n_frames", 1), False, [img.size]
        for i, (w, h) in enumerate(sizes):
            if w * h > MAX_PIXELS:
                refused[i] = _too_many_pixels(name, w, h, i if multipage else None)
    except InputError:
        raise
    except Exception as e:  # counting GIF frames reads the whole file
        raise InputError(_damaged(name, e)) from None
    note = f"animated {img.format}: the first of its {frames} frames is used" if frames > 1 and not multipage else None
    dpi = img.info.get("dpi", (0,))[0]
    img.close()
    reader: list[Image.Image] = []

    def decode(i: int) -> Image.Image:
        # One reader, moved forward page by page (a TIFF's page i is found by walking i directories); the
        # decoded source (e.g. RGB) is freed once its gray page exists.
        if not reader or reader[0].tell() > i:
            close()
            reader.append(Image.open(io.BytesIO(data)))
        frame = reader[0]
        frame.seek(i)
        if frame.width * frame.height > MAX_PIXELS:  # the directory walk could not read this page's size
            raise InputError(_too_many_pixels(name, frame.width, frame.height, i if multipage else None))
        return to_grayscale(frame)

    def close() -> None:
        while reader:
            reader.pop().close()

    good_dpi = isinstance(dpi, (int, float)) and 30 <= dpi <= 2400
    return Upload(name, sizes, decode, close, note=note, dpi=float(dpi) if good_dpi else PDF_DPI_DEFAULT,
                  refused=refused)


def _damaged(name: str, error: Exception, page: int | None = None) -> str:
    reason = display_name(str(error))[:80]
    where = f"`{name}` page {page + 1}" if page is not None else f"`{name}`"
    return f"{where} is damaged or truncated ({type(error).__name__}: {reason}). Export it again and retry."


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
        # float32, in place: a 40-megapixel page takes 160 MB per copy (exact for 16-bit values)
        with np.errstate(invalid="ignore"):  # widening a signalling NaN flags it; it stays NaN, read as paper
            arr = np.array(img, dtype=np.float32)
        bad = ~np.isfinite(arr)
        # 16-bit sources come as I;16 or I; floats in [0, 1] are scaled up. A float page's NaN or infinite
        # pixels (no data) become paper, never ink.
        arr[bad] = 0.0
        scale = 1 / 257 if img.mode != "F" or arr.max(initial=0) > 1.0 else 255.0
        arr *= scale
        arr[bad] = 255.0
        del bad
        np.clip(arr, 0, 255, out=arr)
        gray = Image.fromarray(np.rint(arr, out=arr).astype(np.uint8), "L")
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        gray = Image.alpha_composite(white, rgba).convert("L")
    else:
        gray = (img.convert("RGB") if img.mode == "CMYK" else img).convert("L")
    gray.info = {}
    return gray


def _open_pdf(data: bytes, name: str, dpi: int, whole: bool = True, first: int | None = None) -> Upload:
    import pikepdf
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
            n = len(pdf)
            if n == 0:
                raise InputError(f"`{name}` has no pages.")
            if whole and n > MAX_PAGES:
                raise InputError(f"`{name}` has {n} pages; the limit is {MAX_PAGES} pages per PDF. "
                                 "Split it and upload the parts.")
            number = (lambda i: i + (first or 0)) if first is not None or n > 1 else (lambda i: 0)
            sizes, refused = [], {}
            for i in range(n):
                w_pt, h_pt = pdf.get_page_size(i)
                w, h = math.ceil(w_pt * scale), math.ceil(h_pt * scale)
                if w * h > MAX_PIXELS:
                    refused[i] = _pdf_page_too_big(name, number(i), w_pt, h_pt, dpi)
                sizes.append((w, h))
            # pikepdf (qpdf) walks what each page draws: pdfium has no way to list annotations' images
            structure = pikepdf.Pdf.open(io.BytesIO(data))
        except InputError:
            pdf.close()
            raise
        except (pdfium.PdfiumError, pikepdf.PdfError) as e:
            pdf.close()
            raise InputError(f"`{name}` could not be read ({display_name(str(e))[:80]}): the PDF seems damaged. "
                             "Export it again and retry.") from None

    def check(i: int) -> None:
        """Refuse page ``i`` when the images it draws (anywhere) exceed the per-page limit."""
        if i not in refused:
            try:
                drawn = _pdf_drawn(pdf, structure, i)
            except Exception as e:  # a structure too damaged to walk: refused, never decoded blind
                refused[i] = _damaged(name, e, number(i) if n > 1 or first is not None else None)
                return
            if sum(w * h for w, h in drawn) > MAX_PIXELS:
                w, h = max(drawn, key=lambda s: s[0] * s[1])
                refused[i] = (f"`{name}` page {number(i) + 1} draws images of "
                              f"{megapixels(sum(a * b for a, b in drawn))} megapixels (the largest {w}×{h}), over "
                              f"the limit of {MAX_PIXELS / 1e6:.0f} megapixels per page. Export the PDF with "
                              "smaller images and retry.")

    if whole:
        with _PDFIUM:
            for i in range(n):
                check(i)

    def decode(i: int) -> Image.Image:
        with _PDFIUM:
            check(i)
            if i in refused:
                raise InputError(refused[i])
            page = pdf[i]
            try:
                return page.render(scale=scale, grayscale=True).to_pil().convert("L")
            except pdfium.PdfiumError as e:
                raise InputError(f"`{name}` page {number(i) + 1} could not be rendered ({e}).") from None
            finally:
                page.close()

    def close() -> None:
        with _PDFIUM:
            pdf.close()
            structure.close()

    return Upload(name, sizes, decode, close, dpi=float(dpi), refused=refused, first=first)


# Keys that lead from what a page draws back to other pages (never followed when walking a page).
_BACK = {"/Parent", "/P", "/Dest", "/A", "/Next", "/Prev", "/First", "/Last", "/StructParent", "/StructParents"}


def _pdf_drawn(pdf, structure, index: int) -> list[tuple[int, int]]:
    """(width, height) of every image page ``index`` can draw: from its content (pdfium, inline images and
    forms included) and from everything its resources and annotations reach (forms, patterns, shadings,
    soft masks, appearance streams), each image once."""
    import pikepdf
    import pypdfium2.raw as pdfium_c

    page = pdf[index]
    try:
        drawn = [obj.get_px_size() for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))]
    finally:
        page.close()
    node = structure.pages[index].obj
    stack = [node.get("/Annots"), node.get("/Resources")]
    while stack[-1] is None and "/Parent" in node:  # resources may be inherited from the page tree
        node = node["/Parent"]
        stack[-1] = node.get("/Resources")
    seen, images = set(), []
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
            continue
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if obj.get("/Type") in ("/Page", "/Pages"):
            continue
        if obj.get("/Subtype") == "/Image":
            images.append((int(obj.get("/Width", 0)), int(obj.get("/Height", 0))))
        stack.extend(v for k, v in obj.items() if k not in _BACK)
    # pdfium's list and the walk see the same content images: count the larger total, not both
    return images if sum(w * h for w, h in images) >= sum(w * h for w, h in drawn) else drawn


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


ITEM_WORK_SIDE = 16 * IMAGE_SIZE  # a picture is shrunk to this longest side before anything else


def shrink(img: Image.Image, side: int = ITEM_WORK_SIDE) -> Image.Image:
    """``img`` with its longest side at most ``side`` pixels (aspect kept, at least 1 pixel per side)."""
    if max(img.size) <= side:
        return img
    w, h = img.size
    f = side / max(w, h)
    return img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.LANCZOS, reducing_gap=3.0)


def to_fashion_item(img: Image.Image) -> np.ndarray:
    """Convert any grayscale picture into a 28×28 Fashion-MNIST-like item: light object on black, centred.
    The picture is shrunk first, so a 1×100000 strip is never padded to a 100000² square."""
    x = gray_to_float(shrink(img))
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
