"""Whole-page document cleaning at any size, and the batch command line.

Big pages are cut into overlapping tiles: each tile carries ``MARGIN`` pixels of context that are
thrown away, and neighbouring tiles cross-fade linearly over ``BLEND`` pixels, so the result matches
one-shot inference and shows no seams while memory stays bounded (one tile's activations at a time).

    python -m core.clean INPUT... --out DIR   # files or folders; PNG out; bad files reported and skipped
"""
from __future__ import annotations

import argparse
import io
import sys
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from core.models.documents import DOWNSAMPLING

TILE = 1024  # largest tile core (pixels per side) run at once
MARGIN = 64  # context each tile reads beyond what it keeps
BLEND = 32  # width of the cross-fade between neighbouring tiles
SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".gif", ".bmp", ".webp"}


def _round_up(n: int, k: int) -> int:
    return -(-n // k) * k


def _spans(n: int, tile: int, margin: int, blend: int) -> list[tuple[int, int, np.ndarray]]:
    """Per tile along one axis: (read start, read end, weights over the read window); weights sum to 1."""
    count = -(-n // tile)
    core = _round_up(-(-n // count), DOWNSAMPLING)
    half = blend // 2
    spans = []
    for start in range(0, n, core):
        end = min(start + core, n)
        t = np.arange(max(0, start - half - margin), min(n, end + half + margin))
        w = np.ones(len(t), np.float32)
        if start > 0:
            w = np.minimum(w, np.clip((t - (start - half) + 0.5) / blend, 0, 1))
        if end < n:
            w = np.minimum(w, np.clip(1 - (t - (end - half) + 0.5) / blend, 0, 1))
        spans.append((int(t[0]), int(t[-1]) + 1, w))
    return spans


# Every tile runs on this one thread. On 2 cores concurrent tiles add no speed, and each app
# session's thread would keep a tile's activations (~200 MB) in its own malloc arena, so peak
# memory would grow with the number of people cleaning at once.
_TILE_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="document-tiles")


def _forward(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model(x[None, :, :, None], training=False))[0, :, :, 0]


def _run(model, x: np.ndarray) -> np.ndarray:
    return _TILE_WORKER.submit(_forward, model, x).result()


def clean_array(model, page: np.ndarray, tile: int = TILE, margin: int = MARGIN, blend: int = BLEND,
                progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Clean a float (H, W) page in [0, 1]; returns float32 (H, W) in [0, 1]."""
    if tile % DOWNSAMPLING or margin % DOWNSAMPLING or blend % (2 * DOWNSAMPLING):
        raise ValueError(f"tile and margin must be multiples of {DOWNSAMPLING}, blend of {2 * DOWNSAMPLING}")
    page = np.asarray(page, np.float32)
    if page.ndim != 2 or min(page.shape) < 1:
        raise ValueError(f"expected a 2-D page, got shape {page.shape}")
    h, w = page.shape
    hp, wp = _round_up(h, DOWNSAMPLING), _round_up(w, DOWNSAMPLING)
    padded = np.pad(page, ((0, hp - h), (0, wp - w)), mode="edge")
    rows, cols = _spans(hp, tile, margin, blend), _spans(wp, tile, margin, blend)
    if len(rows) == len(cols) == 1:
        out = _run(model, padded)
    else:
        out = np.zeros((hp, wp), np.float32)
        done, total = 0, len(rows) * len(cols)
        for y0, y1, wy in rows:
            for x0, x1, wx in cols:
                out[y0:y1, x0:x1] += _run(model, padded[y0:y1, x0:x1]) * wy[:, None] * wx[None, :]
                done += 1
                if progress:
                    progress(done / total)
    return np.clip(out[:h, :w], 0.0, 1.0)


def clean_image(model, image: Image.Image, progress: Callable[[float], None] | None = None) -> Image.Image:
    """Clean one grayscale ("L") page image; the result has the same size."""
    from core.imageio import gray_to_float
    from core.render import to_uint8

    return Image.fromarray(to_uint8(clean_array(model, gray_to_float(image), progress=progress)), "L")


def zip_bytes(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP archive in memory of (name, content) files."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def pdf_bytes(images: list[Image.Image], dpi: float = 150) -> bytes:
    """One multi-page PDF in memory, one image per page."""
    if not images:
        raise ValueError("no pages to write")
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def output_name(label: str, index: int, count: int) -> str:
    """File name for a cleaned page: the source's stem, plus the page number for multi-page files."""
    stem = Path(label.split(" page ")[0] if count > 1 else label).stem or "page"
    return f"{stem}-page{index + 1:03d}.png" if count > 1 else f"{stem}.png"


def gather(inputs: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus files with an image/PDF suffix inside named folders (recursively)."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            files.append(item)
    return files


def _bar(done: int, total: int, label: str) -> None:
    filled = int(30 * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {label[:40]:<40}")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.clean", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="image/PDF files or folders")
    parser.add_argument("--out", required=True, type=Path, help="folder for the cleaned PNG pages")
    parser.add_argument("--pdf-dpi", type=int, default=150, help="resolution for rasterising PDF pages")
    parser.add_argument("--model", type=Path, help="a .keras file with its card (default: weights/documents.keras)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                        help="clean on Ray Data (pip install -r requirements-archive.txt): an embedded local Ray, or "
                             "the cluster at ADDRESS (or RAY_ADDRESS); --out may then be a URI, e.g. s3://bucket/out")
    parser.add_argument("--gpus-per-worker", type=float, default=0, help="with --ray: GPUs per cleaning worker")
    args = parser.parse_args(argv)
    if args.ray is not None:  # the only path that imports Ray
        from core.archive import run
        return run(args)

    from core.imageio import InputError, display_name, iter_upload
    from core.inference import WeightsError, load_model

    try:
        model = load_model("documents", args.model)
    except WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = gather(args.inputs)
    args.out.mkdir(parents=True, exist_ok=True)
    failures, written, used = [], 0, set()
    for i, path in enumerate(files):
        if not args.quiet:
            _bar(i, len(files), path.name)
        try:
            pages = list(iter_upload(path.read_bytes(), path.name, args.pdf_dpi))
            for k, page in enumerate(pages):
                name, n = output_name(page.label, k, len(pages)), 1
                while name in used:  # a.png and a.jpg in one run
                    name, n = f"{Path(output_name(page.label, k, len(pages))).stem}-{n}.png", n + 1
                used.add(name)
                clean_image(model, page.image).save(args.out / name)
                written += 1
        except (InputError, OSError) as e:
            failures.append(f"{display_name(str(path))}: {e}")
    if not args.quiet:
        _bar(len(files), len(files), "done")
        sys.stderr.write("\n")
    for f in failures:
        print(f"skipped {f}", file=sys.stderr)
    print(f"{written} page(s) written to {args.out}; {len(failures)} file(s) skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
