"""Real noisy/clean page pairs in the Kaggle "Denoising Dirty Documents" layout, read in place, never copied.

Its pages reuse a few paper backgrounds and a few texts, so a fair held-out split keeps out whole groups:
pages are linked when they share a text or a background, and the held-out pages are whole connected
groups, so none of them shares either with a training page.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.config import SHARED_DATA_DIR

REAL_DIR = SHARED_DATA_DIR / "dirty-documents"
SAME = 0.9  # correlation above which two signatures count as the same text / background


@dataclass(frozen=True)
class RealPair:
    """One real page: file name, clean and noisy uint8 (H, W)."""

    name: str
    clean: np.ndarray
    noisy: np.ndarray


def load_real_pairs(directory: str | Path = REAL_DIR) -> list[RealPair]:
    """Pairs train/NAME with train_cleaned/NAME; empty when the folder is absent."""
    directory = Path(directory)
    if not (directory / "train").is_dir() or not (directory / "train_cleaned").is_dir():
        return []
    pairs = []
    for noisy_path in sorted((directory / "train").glob("*.png")):
        clean_path = directory / "train_cleaned" / noisy_path.name
        if clean_path.is_file():
            noisy = np.asarray(Image.open(noisy_path).convert("L"))
            clean = np.asarray(Image.open(clean_path).convert("L"))
            if noisy.shape == clean.shape:
                pairs.append(RealPair(noisy_path.name, clean, noisy))
    return pairs


def _signature(img: np.ndarray, side: int) -> np.ndarray:
    x = np.asarray(Image.fromarray(img).resize((side, side), Image.BOX), dtype=np.float64).ravel()
    x -= x.mean()
    return x / (np.linalg.norm(x) + 1e-9)


def _background(pair: RealPair) -> np.ndarray:
    # Paper without ink: the brightest pixels of each block (text is dark), then a coarse signature.
    h, w = pair.noisy.shape
    b = 8
    blocks = pair.noisy[: h - h % b, : w - w % b].reshape(h // b, b, w // b, b).max(axis=(1, 3))
    return _signature(blocks, 16)


def _groups(signatures: list[np.ndarray]) -> list[int]:
    """Greedy clustering: each signature joins the first group whose leader correlates above SAME."""
    leaders, labels = [], []
    for s in signatures:
        for k, lead in enumerate(leaders):
            if lead.shape == s.shape and float(lead @ s) > SAME:
                labels.append(k)
                break
        else:
            leaders.append(s)
            labels.append(len(leaders) - 1)
    return labels


def split_held_out(pairs: list[RealPair], fraction: float = 0.2) -> tuple[list[RealPair], list[RealPair]]:
    """(training, held-out): held-out pages share no text and no background with training pages."""
    texts = _groups([_signature(p.clean, 32) for p in pairs])
    backgrounds = _groups([_background(p) for p in pairs])
    parent = list(range(len(pairs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for labels in (texts, backgrounds):
        first: dict[int, int] = {}
        for i, g in enumerate(labels):
            parent[find(i)] = find(first.setdefault(g, i))
    components: dict[int, list[int]] = {}
    for i in range(len(pairs)):
        components.setdefault(find(i), []).append(i)
    held: list[int] = []
    # Smallest groups first, and never every group: training must keep at least one.
    for members in sorted(components.values(), key=lambda m: (len(m), m[0]))[: max(len(components) - 1, 0)]:
        if len(held) >= fraction * len(pairs):
            break
        held += members
    held_set = set(held)
    return [p for i, p in enumerate(pairs) if i not in held_set], [pairs[i] for i in sorted(held_set)]


def checksum(pairs: list[RealPair]) -> str:
    """SHA-256 over names and pixels of the pages used."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(p.name.encode())
        h.update(np.ascontiguousarray(p.noisy).tobytes())
        h.update(np.ascontiguousarray(p.clean).tobytes())
    return h.hexdigest()


DIBCO_DIR = SHARED_DATA_DIR / "dibco-dev"
DIBCO_YEARS = ("2009", "2010", "2011")


@dataclass(frozen=True)
class BinaryPage:
    """One page with binary ground truth: name (e.g. ``2009/P01``), uint8 scan, bool ink mask."""

    name: str
    scan: np.ndarray
    ink: np.ndarray


def rescale(page: BinaryPage, factor: float) -> BinaryPage:
    """The page as if scanned at ``factor`` times its resolution: the scan resampled, the ink mask resampled
    the same way and cut at half."""
    h, w = page.ink.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    scan = np.asarray(Image.fromarray(page.scan).resize(size, Image.BILINEAR))
    ink = np.asarray(Image.fromarray(page.ink.astype(np.float32), "F").resize(size, Image.BILINEAR)) > 0.5
    return BinaryPage(page.name, scan, ink)


def load_binary_set(folder: str | Path) -> list[BinaryPage]:
    """Pages of one set folder (``NAME_in.png`` + ``NAME_gt.png``, 0 = ink), named ``SET/NAME``; empty when absent."""
    pages = []
    for scan_path in sorted(Path(folder).glob("*_in.png")):
        gt_path = scan_path.with_name(scan_path.name.replace("_in.png", "_gt.png"))
        if gt_path.is_file():
            scan = np.asarray(Image.open(scan_path).convert("L"))
            ink = np.asarray(Image.open(gt_path).convert("L")) < 128
            if scan.shape == ink.shape:
                pages.append(BinaryPage(f"{scan_path.parent.name}/{scan_path.name[: -len('_in.png')]}", scan, ink))
    return pages


def load_dibco(directory: str | Path = DIBCO_DIR) -> dict[str, list[BinaryPage]]:
    """DIBCO pages by year (``YEAR/NAME_in.png`` + ``NAME_gt.png``, 0 = ink); empty when absent."""
    years = {d.name: load_binary_set(d) for d in sorted(Path(directory).glob("*")) if d.is_dir()}
    return {y: pages for y, pages in years.items() if pages}


HISTORICAL_DIR = SHARED_DATA_DIR / "real-train"
HISTORICAL_SOURCES = {
    "dibco-dev": "DIBCO 2009 / H-DIBCO 2010 / DIBCO 2011 (contest organisers; research benchmarking)",
    "msi2015": "MSI 2015 contest set, one band (research terms), via RichSu95/Document_Binarization_Collection",
    "nabuco": "Nabuco letters (research terms), via RichSu95/Document_Binarization_Collection",
}


def historical_sets(dibco_dir: str | Path = DIBCO_DIR, train_dir: str | Path = HISTORICAL_DIR
                    ) -> dict[str, list[BinaryPage]]:
    """Every real page with binary ground truth, by set: the three DIBCO years, then ``msi2015`` and ``nabuco``.

    Each set is one fold of the leave-one-set-out validation (``fold``); absent folders give no set."""
    sets = load_dibco(dibco_dir)
    for name in ("msi2015", "nabuco"):
        if pages := load_binary_set(Path(train_dir) / name):
            sets[name] = pages
    return sets


def fold(sets: dict[str, list[BinaryPage]], held_out: str | None) -> tuple[list[BinaryPage], list[BinaryPage]]:
    """(training, scored) pages of the fold that leaves set ``held_out`` out; ``None``: every page trains."""
    if held_out is not None and held_out not in sets:
        raise ValueError(f"no set {held_out!r} to leave out (have {', '.join(sets)})")
    train = [p for name, pages in sets.items() if name != held_out for p in pages]
    return train, list(sets.get(held_out, []))
