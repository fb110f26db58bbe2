"""OCR agreement: Tesseract's reading of a page against the text the generator printed on it."""
from __future__ import annotations

import re

import numpy as np
from PIL import Image


def normalize(text: str) -> str:
    """Collapse all whitespace (line breaks, table gaps) to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row per character of ``a``, each row vectorised over ``b``."""
    if not a or not b:
        return len(a) + len(b)
    codes = np.array([ord(c) for c in b])
    j = np.arange(len(b) + 1)
    prev = j.copy()
    for i, ch in enumerate(a, 1):
        best = np.empty_like(prev)
        best[0] = i
        best[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (codes != ord(ch)))
        # insertions chain along the row: cur[j] = min over k <= j of best[k] + (j - k)
        prev = np.minimum.accumulate(best - j) + j
    return int(prev[-1])


def cer(recognised: str, reference: str) -> float:
    """Character error rate: edit distance over the reference length, whitespace-normalised."""
    ref = normalize(reference)
    return edit_distance(normalize(recognised), ref) / max(len(ref), 1)


def ocr(page: np.ndarray) -> str:
    """Tesseract's text for a uint8 (H, W) page (automatic layout: --psm 6 misreads ruled tables)."""
    import pytesseract

    return pytesseract.image_to_string(Image.fromarray(page), config="--psm 3")
