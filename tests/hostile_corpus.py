"""A corpus of hostile or odd uploads, generated in memory (no binary blobs in the repo).

Each case: file name, bytes, and what must happen — ``Reject(words)`` (an InputError whose message
contains every word) or ``Accept(pages, size, note)`` (decoded into that many grayscale pages).
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.limits import MAX_PAGES, MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class Reject:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Accept:
    pages: int = 1
    size: tuple[int, int] | None = None  # (width, height) of the first page
    note: str | None = None  # a word the page note must contain


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes = field(repr=False)
    expect: Reject | Accept


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _page() -> Image.Image:
    """A small grey 'document' with a dark bar, so conversions can be checked."""
    img = Image.new("RGB", (64, 48), (230, 225, 210))
    img.paste((20, 20, 20), (8, 20, 56, 28))
    return img


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 50_000) -> bytes:
    """A valid 1-bit PNG of side × side black pixels: about 300 KB on disk, 2.5 gigapixels decoded."""
    row = b"\0" * (1 + side // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def exif_rotated_jpeg() -> bytes:
    """A 60×30 JPEG whose EXIF says 'rotate 90° clockwise to view' (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(Image.new("L", (60, 30), 128), "JPEG", exif=exif.tobytes())


def pdf(pages: int, password: str | None = None) -> bytes:
    """A PDF of ``pages`` small pages, optionally password-protected (made with pypdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def image_pdf() -> bytes:
    return _save(_page(), "PDF", resolution=72)


def cases() -> list[Case]:
    rng = np.random.default_rng(0)
    png = _save(_page(), "PNG")
    jpeg = _save(_page(), "JPEG")
    gif_frames = [Image.new("L", (20, 20), v) for v in (0, 128, 255)]
    pal = Image.new("P", (16, 16), 1)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    tiff_pages = [_page().convert("L") for _ in range(3)]
    return [
        Case("empty.png", b"", Reject(("empty",))),
        Case("random.png", rng.bytes(4096), Reject(("not an image",))),
        Case("random.jpg", rng.bytes(100), Reject(("not an image",))),
        Case("notes.png", b"Dear diary, this is a text file.\n" * 20, Reject(("not an image",))),
        Case("truncated.png", png[: len(png) // 2], Reject(("damaged",))),
        Case("truncated.jpg", jpeg[: len(jpeg) // 2], Reject(("damaged",))),
        Case("header-only.png", png[:8], Reject(("not an image",))),
        Case("bomb.png", png_bomb(), Reject(("megapixels", "lower resolution"))),
        Case("huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1), Reject(("MB", "limit"))),
        Case("one-pixel.png", _save(Image.new("L", (1, 1), 200), "PNG"), Accept(size=(1, 1))),
        Case("strip.png", _save(Image.new("L", (1, 20000), 255), "PNG"), Accept(size=(1, 20000))),
        # 161 bytes that the Denoise page padded to a 100000² square before shrinking it (issue 35)
        Case("long-strip.png", _save(Image.new("L", (1, 100_000), 255), "PNG"), Accept(size=(1, 100_000))),
        Case("gray16.png", _save(Image.fromarray(np.full((8, 8), 65535, np.uint16)), "PNG"), Accept(size=(8, 8))),
        Case("gray16.tif", _save(Image.fromarray(np.full((8, 8), 30000, np.uint16)), "TIFF"), Accept(size=(8, 8))),
        Case("float.tif", _save(Image.fromarray(np.full((8, 8), 0.5, np.float32)), "TIFF"), Accept(size=(8, 8))),
        Case("cmyk.jpg", _save(_page().convert("CMYK"), "JPEG"), Accept(size=(64, 48))),
        Case("palette-transparent.png", _save(pal, "PNG", transparency=0), Accept(size=(16, 16))),
        Case("la.png", _save(Image.new("LA", (10, 10), (0, 0)), "PNG"), Accept(size=(10, 10))),
        Case("rgba.png", _save(Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "PNG"), Accept(size=(10, 10))),
        Case("bilevel.png", _save(Image.new("1", (10, 10), 1), "PNG"), Accept(size=(10, 10))),
        Case("exif-rotated.jpg", exif_rotated_jpeg(), Accept(size=(30, 60))),
        Case("progressive.jpg", _save(_page(), "JPEG", progressive=True), Accept(size=(64, 48))),
        Case("animated.gif", _save(gif_frames[0], "GIF", save_all=True, append_images=gif_frames[1:]),
             Accept(size=(20, 20), note="first")),
        Case("still.gif", _save(_page().convert("P"), "GIF"), Accept(size=(64, 48))),
        Case("pages.tif", _save(tiff_pages[0], "TIFF", save_all=True, append_images=tiff_pages[1:]), Accept(pages=3)),
        Case("scan.bmp", _save(_page(), "BMP"), Accept(size=(64, 48))),
        Case("scan.webp", _save(_page(), "WEBP"), Accept(size=(64, 48))),
        Case("drawing.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
             Reject(("SVG", "PNG"))),
        Case("photo.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + rng.bytes(200), Reject(("HEIC", "JPEG"))),
        Case("page.pdf", image_pdf(), Accept(pages=1)),
        Case("locked.pdf", pdf(1, password="secret"), Reject(("password",))),
        Case("long.pdf", pdf(MAX_PAGES * 10), Reject(("500 pages", f"{MAX_PAGES} pages"))),
        Case("corrupt.pdf", b"%PDF-1.7\n" + rng.bytes(500), Reject(("not a readable PDF",))),
        Case("../../etc/passwd.png", png, Accept(size=(64, 48))),
        Case('<img src=x onerror="alert(1)">.png', b"not an image", Reject(("not an image",))),
    ]
