"""Limits on what users may upload: the one place they are set (the UI shows them)."""
from __future__ import annotations

MAX_UPLOAD_MB = 50  # must equal server.maxUploadSize in .streamlit/config.toml (a test checks)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_PIXELS = 40_000_000  # per page: A4 at 600 dpi is 34.8 megapixels
MAX_PAGES = 50  # pages per PDF or multi-page TIFF
PDF_DPI_RANGE = (72, 300)
PDF_DPI_DEFAULT = 150


def describe() -> str:
    """One sentence for the UI."""
    return (
        f"Up to {MAX_UPLOAD_MB} MB per file, {MAX_PIXELS / 1e6:.0f} megapixels per page and "
        f"{MAX_PAGES} pages per PDF or TIFF."
    )
