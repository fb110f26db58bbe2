"""Seeded (clean, noisy) page pairs: the training stream, a monitor set and the held-out evaluation set.

Each pair comes from its own ``SeedSequence`` whose first word names the stream, so the held-out
pages (stream ``HELD_OUT``) can never be drawn by training (``TRAIN``) or early stopping (``MONITOR``).
"""
from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
from PIL import Image

from core.documents.degrade import degrade, widen
from core.documents.synth import add_handwriting, all_fonts, bundled_fonts, render_page

TRAIN, MONITOR, HELD_OUT, SAMPLES = 1, 2, 3, 4
HELD_OUT_PAGES = 60
HELD_OUT_SIZE = (640, 512)  # (height, width) pixels
HANDWRITING = 0.4  # share of training pages that also carry cursive-like pen strokes


@dataclass(frozen=True)
class Pair:
    """A clean page, its degraded scan (both uint8 (H, W)) and the text printed on it."""

    clean: np.ndarray
    noisy: np.ndarray
    text: str
    dpi: int


def make_pair(stream: int, *key: int, size: tuple[int, int] | None = None, scale: bool = False) -> Pair:
    """The pair seeded by ``(stream, *key)``; training pairs get a random size and scale."""
    rng = np.random.default_rng(np.random.SeedSequence([stream, *key]))
    # Evaluation pages use only matplotlib's fonts so they are the same on every machine.
    fonts = all_fonts() if stream == TRAIN else bundled_fonts()
    if size is None:
        size = (int(rng.integers(400, 900)), int(rng.integers(360, 800)))
    page = render_page(rng, size, fonts=fonts)
    clean = page.image
    if stream in (TRAIN, MONITOR) and rng.random() < HANDWRITING:
        clean = add_handwriting(clean, rng)
    noisy = degrade(clean, rng)
    if stream in (TRAIN, MONITOR):  # evaluation pages keep the original degradations, so old numbers stay comparable
        noisy = widen(noisy, rng)
    if scale:  # small scale changes, applied to both so they stay aligned
        f = rng.uniform(0.8, 1.25)
        new = (max(160, round(clean.shape[1] * f)), max(160, round(clean.shape[0] * f)))
        clean = np.asarray(Image.fromarray(clean).resize(new, Image.BILINEAR))
        noisy = np.asarray(Image.fromarray(noisy).resize(new, Image.BILINEAR))
    return Pair(clean, noisy, page.text, page.dpi)


def _held_out(i: int) -> Pair:
    return make_pair(HELD_OUT, i, size=HELD_OUT_SIZE)


def _monitor(i: int) -> Pair:
    return make_pair(MONITOR, i, size=(384, 384))


def _training(seed: int, epoch: int, i: int) -> Pair:
    return make_pair(TRAIN, seed, epoch, i, scale=True)


def executor(workers: int = 1) -> ProcessPoolExecutor:
    """Worker processes for page generation (spawned: forking a process that runs TensorFlow is unsafe)."""
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"))


def held_out_pairs(n: int = HELD_OUT_PAGES, pool: ProcessPoolExecutor | None = None) -> list[Pair]:
    """The first ``n`` pages of the fixed held-out set (no training run ever draws them)."""
    return list(pool.map(_held_out, range(n))) if pool else [_held_out(i) for i in range(n)]


def monitor_pairs(n: int, pool: ProcessPoolExecutor | None = None) -> list[Pair]:
    """A fixed set for validation loss and early stopping, separate from the held-out set."""
    return list(pool.map(_monitor, range(n))) if pool else [_monitor(i) for i in range(n)]


def submit_training_pairs(pool: ProcessPoolExecutor, seed: int, epoch: int, n: int) -> list:
    """Start generating epoch ``epoch``'s fresh training pairs in the background; returns futures."""
    return [pool.submit(_training, seed, epoch, i) for i in range(n)]


def sample_pages(n: int = 3, size: tuple[int, int] = (900, 700)) -> list[Pair]:
    """Degraded pages to try the cleaner on without uploading: seeded, so the same on every visit."""
    return [make_pair(SAMPLES, i, size=size) for i in range(n)]


def checksum(pairs: list[Pair]) -> str:
    """SHA-256 over the pages' pixels and text: proves two runs evaluated the same pages."""
    h = hashlib.sha256()
    for p in pairs:
        for a in (p.clean, p.noisy):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(p.text.encode())
    return h.hexdigest()
