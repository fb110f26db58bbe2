"""Limits on what users may upload: the one place they are set (the UI shows them).

Cleaning costs about 0.4 s per megapixel on 2 quiet CPU cores, so the pixel budgets bound the time of one
file and of one upload in the app to about a minute (50 pages of 42 × 42 inches would take over 13 minutes).
"""
from __future__ import annotations

MAX_UPLOAD_MB = 50  # must equal server.maxUploadSize in .streamlit/config.toml (a test checks)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_PIXELS = 40_000_000  # per page, and per image drawn inside a PDF page: A4 at 600 dpi is 34.8 megapixels
MAX_PAGES = 50  # pages per PDF or multi-page TIFF in the app (the CLI and Ray take any page count)
MAX_FILE_PIXELS = 120_000_000  # all pages of one file together: 50 A4 pages at 150 dpi
MAX_JOB_PIXELS = 120_000_000  # all files of one upload on the Clean documents page together (the CLI streams
# files one by one, each within MAX_FILE_PIXELS)
MAX_QUEUED_JOBS = 20  # Clean documents uploads waiting or running in one server, all sessions together (one
# A4 page each: the last waits ~20 × 2 s on 2 quiet cores); one more is told the server is busy
MAX_ICC_PROFILE_BYTES = 16 * 2**20  # a colour profile inside a PNG may decompress to this (Pillow's default: 1 MB)
PDF_DPI_RANGE = (72, 300)
PDF_DPI_DEFAULT = 150
A4_PIXELS = 1240 * 1754  # an A4 page at 150 dpi, to put megapixels in terms people know


def megapixels(pixels: float) -> str:
    """Pixels as a short megapixel figure for messages, e.g. ``"39.7"`` or ``"1985"``."""
    return f"{pixels / 1e6:.1f}" if pixels < 1e8 else f"{pixels / 1e6:.0f}"


def describe() -> str:
    """One sentence for the UI."""
    return (
        f"Up to {MAX_UPLOAD_MB} MB per file, {MAX_PIXELS / 1e6:.0f} megapixels per page, "
        f"{MAX_PAGES} pages per PDF or TIFF and {MAX_FILE_PIXELS / 1e6:.0f} megapixels per file "
        f"(an A4 page at 150 dpi is {A4_PIXELS / 1e6:.1f} megapixels)."
    )


def describe_archive() -> str:
    """The limits of the command line and Ray, for their help."""
    return (f"any file size and page count, cleaned page by page; {MAX_PIXELS / 1e6:.0f} megapixels per page "
            f"(and for the images a PDF page draws); a page over it is reported and skipped.")


def describe_job() -> str:
    """The budget of one upload on the Clean documents page, for the UI."""
    return (f"One upload may hold up to {MAX_JOB_PIXELS / 1e6:.0f} megapixels in all (about "
            f"{MAX_JOB_PIXELS // A4_PIXELS} A4 pages at 150 dpi); a file past that is refused with a message.")
