"""The document cleaner as everything runs it: whole pages at any size, tiled, on one worker thread, and
their outputs (PNG, ZIP, PDF; clean gray or black & white).

The Clean documents page, ``python -m core.clean`` (and its ``--ray`` path, core.archive), ``python -m
core.evaluate documents``, the home page's example and ``bench/documents.py`` all call this module
(``core/serving/<model>.py``, beside ``models/``, ``training/`` and ``evaluation/``). Importing it loads no
TensorFlow (loading or running a model does).

Big pages are cut into overlapping tiles: each tile carries ``MARGIN`` pixels of context that are
thrown away, and neighbouring tiles cross-fade linearly over ``BLEND`` pixels, so the result matches
one-shot inference and shows no seams while memory stays bounded (one tile's activations at a time).
Files are opened, decoded and cleaned one page at a time on one worker thread, so a process holds one page
in flight however many files, pages or people there are; a cleaned page's PNGs are made when asked for."""
from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from PIL import Image
from scipy import ndimage

from core.config import DOCUMENT_DOWNSAMPLING as DOWNSAMPLING
from core.documents.normalize import normalize
from core.documents.strokes import reduction
from core.jobs import JobQueue
from core.limits import MAX_QUEUED_JOBS

TILE = 512  # largest tile core (pixels per side) run at once: 1024 was as fast and held ~300 MB more
MARGIN = 64  # context each tile reads beyond what it keeps
BLEND = 32  # width of the cross-fade between neighbouring tiles
MODES = {"gray": "clean gray", "bw": "black & white"}  # output modes, as the UI names them
PNG_LEVEL = 4  # zlib level of the output PNGs: on cleaned A4 pages half the time of the default 6 for 1 % more bytes
PDF_MIN_SIDE, PDF_MAX_SIDE = 3.0, 14400.0  # page sides viewers accept, in PDF units (1/72 inch)
T = TypeVar("T")
if TYPE_CHECKING:
    from core.documents.orient import Turn
    from core.ocr import Line


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


# Every file is opened, decoded and cleaned on this one thread (and so is every tile of a page
# cleaned elsewhere). On 2 cores concurrent pages add no speed: each app session's thread would hold a
# decoded page and a tile's activations in its own malloc arena, so memory would grow with the number of
# people cleaning at once. pdfium, which renders PDF pages, is not thread-safe either.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents",
                             initializer=lambda: setattr(_here, "worker", True))
_here = threading.local()
# Whole uploads of the app's sessions wait here in turn, first come first served, then run on _WORKER.
DOCUMENT_JOBS = JobQueue(_WORKER, MAX_QUEUED_JOBS)


def on_worker(job: Callable[[Callable[[float], None]], T], progress: Callable[[float], None] | None = None) -> T:
    """Run ``job(tick)`` on the document worker and return its result; the fractions the job passes to
    ``tick`` reach ``progress`` in the calling thread (where Streamlit can draw them)."""
    if getattr(_here, "worker", False):
        return job(progress or (lambda f: None))
    latest = [0.0]
    future = _WORKER.submit(job, lambda f: latest.__setitem__(0, f))
    while True:
        try:
            return future.result(timeout=0.25)
        except TimeoutError:
            if progress:
                progress(latest[0])


def _forward(model, x: np.ndarray) -> np.ndarray:
    # x: (H, W, 2), one channel per model input (the scan, then its normalisation)
    return np.asarray(model([x[None, :, :, :1], x[None, :, :, 1:]], training=False))[0, :, :, 0]


def _run(model, x: np.ndarray) -> np.ndarray:
    return on_worker(lambda _: _forward(model, x))


def _resize(page: np.ndarray, h: int, w: int) -> np.ndarray:
    if page.dtype == np.uint8:
        page = np.divide(page, np.float32(255), dtype=np.float32)
    return np.array(Image.fromarray(page, "F").resize((w, h), Image.BILINEAR))  # antialiased when shrinking


def clean_array(model, page: np.ndarray, tile: int = TILE, margin: int = MARGIN, blend: int = BLEND,
                progress: Callable[[float], None] | None = None, normalized: np.ndarray | None = None,
                rescale: bool = True) -> np.ndarray:
    """Clean a float (H, W) page in [0, 1] (or an 8-bit one, read as /255); returns float32 (H, W) in [0, 1].

    The whole page is normalised once (its paper and ink levels are page-wide facts; pass ``normalized``
    when the caller has it), then both the scan and its normalisation are cut into the same tiles. A page whose
    strokes are wider than the cleaner was trained on is cleaned shrunk and enlarged back (``rescale``;
    core.documents.strokes)."""
    if tile % DOWNSAMPLING or margin % DOWNSAMPLING or blend % (2 * DOWNSAMPLING):
        raise ValueError(f"tile and margin must be multiples of {DOWNSAMPLING}, blend of {2 * DOWNSAMPLING}")
    # an 8-bit page stays 8-bit (a quarter of the memory) and is read as float one window at a time
    page = np.asarray(page) if np.asarray(page).dtype == np.uint8 else np.asarray(page, np.float32)
    if page.ndim != 2 or min(page.shape) < 1:
        raise ValueError(f"expected a 2-D page, got shape {page.shape}")
    h, w = page.shape
    hp, wp = _round_up(h, DOWNSAMPLING), _round_up(w, DOWNSAMPLING)
    if normalized is None:
        normalized = normalize(page / np.float32(255) if page.dtype == np.uint8 else page)
    if rescale and (factor := reduction(normalized)) > 1:
        small = _resize(page, max(1, round(h / factor)), max(1, round(w / factor)))
        out = _resize(clean_array(model, small, tile, margin, blend, progress, rescale=False), h, w)
        return np.clip(out, 0.0, 1.0, out=out)
    sources = [page, normalized]

    def window(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        # A (rows, cols, inputs) window edge-padded to (hp, wp), without a padded copy of the whole page.
        parts = [source[y0:min(y1, h), x0:min(x1, w)] for source in sources]
        if page.dtype == np.uint8:
            parts[0] = parts[0].astype(np.float32) / 255.0  # as gray_to_float reads it
        pad = ((0, y1 - y0 - parts[0].shape[0]), (0, x1 - x0 - parts[0].shape[1]))
        return np.stack([np.pad(part, pad, mode="edge") for part in parts], axis=-1)

    rows, cols = _spans(hp, tile, margin, blend), _spans(wp, tile, margin, blend)
    if len(rows) == len(cols) == 1:
        out = _run(model, window(0, hp, 0, wp)).copy()  # TensorFlow's buffer is read-only
    else:
        out = np.zeros((hp, wp), np.float32)
        done, total = 0, len(rows) * len(cols)
        for y0, y1, wy in rows:
            for x0, x1, wx in cols:
                out[y0:y1, x0:x1] += _run(model, window(y0, y1, x0, x1)) * wy[:, None] * wx[None, :]
                done += 1
                if progress:
                    progress(done / total)
    return np.clip(out, 0.0, 1.0, out=out)[:h, :w]


BW_THRESHOLD = 0.5  # pixels darker than half gray are ink


def binarize(cleaned: np.ndarray) -> np.ndarray:
    """A float page thresholded at half gray: True for paper, False for ink."""
    return np.asarray(cleaned) > BW_THRESHOLD


MARK_SHARE = 0.2  # black & white: a mark of the page is drawn whole once the cleaner kept this share of it
# black & white: what the cleaner made lighter than this is paper, whatever the page shows. Lower keeps the gray
# output nearer the network on printed pages (Kaggle, synthetic), where the marks grown past it were mostly paper.
FAINT = 0.7


def black_and_white(cleaned: np.ndarray, normalized: np.ndarray) -> np.ndarray:
    """The black & white mode (True for paper): the marks the cleaner kept, at their full width on the page.

    The cleaner decides which marks are ink (stains and bleed-through are gone from its output), but at
    half gray its strokes come out a pixel or two thinner than on the page: their edges stay faint gray.
    So the ink is the cleaned pixels darker than half gray (seeds), grown over each connected mark that is
    darker than half gray on the normalised page and darker than ``FAINT`` in the cleaned one (hysteresis
    thresholding), when at least ``MARK_SHARE`` of that mark is seeds; otherwise, e.g. a faded scanner
    border that one stroke touches, only the seeds are drawn. What the cleaner erased never comes back."""
    return kept_marks(cleaned, ~binarize(normalized))


def kept_marks(cleaned: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """``black_and_white`` from the normalised page's ink (``~binarize(normalized)``), so the caller can let
    the normalised page go first; masks are made in place (a 40-megapixel page: 40 MB each)."""
    marks = cleaned < FAINT
    marks &= ink
    seeds = cleaned <= BW_THRESHOLD  # ~binarize(cleaned)
    marks |= seeds
    labels, count = ndimage.label(marks, structure=np.ones((3, 3), bool))
    del marks
    kept, size = np.zeros(count + 1, np.int64), np.zeros(count + 1, np.int64)
    for start in range(0, labels.shape[0], 1024):  # bincount widens its input to int64: a band at a time
        band = labels[start:start + 1024]
        kept += np.bincount(band[seeds[start:start + 1024]], minlength=count + 1)
        size += np.bincount(band.ravel(), minlength=count + 1)
    whole = kept >= MARK_SHARE * size
    whole[0] = False
    paper = whole[labels]
    del labels
    paper |= seeds
    return np.logical_not(paper, out=paper)


# gray output: where the black & white mode draws ink the cleaner left lighter (just below half gray)
STROKE_EDGE = 0.49


def full_strokes(cleaned: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """The clean gray output, in place: the cleaned page, with the pixels the black & white mode draws as ink
    (``paper`` False) but the cleaner left lighter than half gray set to ``STROKE_EDGE``.

    Those are mostly stroke edges the network drew a pixel thin, and gray ink it faded on dark paper; the
    shade just below half gray keeps them light like anti-aliasing, and the page thresholded at half gray is
    exactly the black & white page, so no text is lost to a threshold."""
    cleaned[~paper & (cleaned >= BW_THRESHOLD)] = STROKE_EDGE
    return cleaned


DROPOUT_SHARE = 0.6  # a row is a scan-line dropout when it breaks at least this share of the strokes crossing it
DROPOUT_LEAST = 8  # ... and at least this many


def dropout_rows(cleaned: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Rows of a cleaned page that are scan-line dropouts: one pixel high, lighter than half gray across most
    of the strokes that run through them (ink above and below), e.g. a printer's or scanner's white banding.

    Text has one-pixel gaps too (the eye of a small "e"), but mostly between strokes one pixel thick, and in
    only a few of the strokes crossing a row. Counted ``chunk`` rows at a time: a 40-megapixel page needs no
    full-size masks."""
    found = []
    for start in range(2, cleaned.shape[0] - 2, chunk):
        ink = ~binarize(cleaned[start - 2:min(start + chunk, cleaned.shape[0] - 2) + 2])
        through = ink[1:-3] & ink[3:-1] & (ink[:-4] | ink[4:])  # ink above and below, two rows deep on one side
        cut = np.count_nonzero(through & ~ink[2:-2], axis=1)
        crossing = np.count_nonzero(through, axis=1)
        found.append(start + np.flatnonzero((cut >= DROPOUT_LEAST) & (cut >= DROPOUT_SHARE * crossing)))
    return np.concatenate(found) if found else np.zeros(0, int)


def mend_dropouts(cleaned: np.ndarray) -> np.ndarray:
    """In place: each scan-line dropout row (``dropout_rows``) made no lighter than the lighter of its two
    neighbours, so strokes cut by a white line are whole again; paper stays paper. Returns ``cleaned``."""
    rows = dropout_rows(cleaned)
    cleaned[rows] = np.minimum(cleaned[rows], np.maximum(cleaned[rows - 1], cleaned[rows + 1]))
    return cleaned


def both_modes(cleaned: np.ndarray, normalized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two output modes from the network's output (turned into the gray one in place) and the normalised
    page: (clean gray float32, black & white bool, True for paper). Scan-line dropouts are mended first."""
    paper = black_and_white(mend_dropouts(cleaned), normalized)
    return full_strokes(cleaned, paper), paper


def clean_both(model, page: np.ndarray, progress: Callable[[float], None] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """A float (H, W) page cleaned in both output modes: (clean gray float32, black & white bool, True for paper)."""
    normalized = normalize(page)
    return both_modes(clean_array(model, page, progress=progress, normalized=normalized), normalized)


def clean_image(model, image: Image.Image, progress: Callable[[float], None] | None = None) -> Image.Image:
    """Clean one grayscale ("L") page image into the clean gray output; the result has the same size."""
    from core.imageio import gray_to_float
    from core.render import to_uint8

    return Image.fromarray(to_uint8(clean_both(model, gray_to_float(image), progress=progress)[0]), "L")


@dataclass
class CleanedPage:
    """One cleaned page, page ``index`` of ``count`` of file ``source``: its pixels while held, and its PNG in
    each output mode, made when first asked for (``png``) or by ``encode``."""

    source: str
    index: int
    count: int
    size: tuple[int, int]  # (width, height)
    dpi: float
    pngs: dict[str, bytes] = field(default_factory=dict)  # by mode: 8-bit grayscale ("gray"), 1-bit ("bw")
    pixels: tuple[np.ndarray, np.ndarray] | None = None  # (clean gray uint8, black & white bits packed along rows)
    note: str | None = None
    name: str = ""  # output file name (PNG), unique within its job
    turn: Turn | None = None  # what straightening did, when it ran
    lines: list[Line] | None = None  # the recognised text, when read

    @property
    def label(self) -> str:
        """How the page is named to people: the file name, plus "page i/n" for multi-page files."""
        return f"{self.source} page {self.index + 1}/{self.count}" if self.count > 1 else self.source

    def image(self, mode: str = "gray") -> Image.Image:
        """The page in output mode ``mode`` ("gray" or "bw") as an image: from its pixels while held."""
        if self.pixels is None:
            image = Image.open(io.BytesIO(self.pngs[mode]))
            image.load()
            return image
        gray, bits = self.pixels
        if mode == "gray":
            return Image.fromarray(gray, "L")
        return Image.fromarray(np.unpackbits(bits, axis=1, count=self.size[0]).astype(bool))

    def png(self, mode: str = "gray") -> bytes:
        """The page as PNG in output mode ``mode`` ("gray" or "bw"), encoded on the first call."""
        if mode not in self.pngs:
            self.pngs[mode] = _encode(self.image(mode), self.dpi)
        return self.pngs[mode]

    def encode(self) -> CleanedPage:
        """Both PNGs made now and the pixels let go (a cleaned A4 scan's PNGs take 60 % of its pixels' memory)."""
        for mode in MODES:
            self.png(mode)
        self.pixels = None
        return self


def _encode(image: Image.Image, dpi: float) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", dpi=(dpi, dpi), compress_level=PNG_LEVEL)
    return buf.getvalue()


def clean_page(model, upload, index: int, tick: Callable[[float], None] | None = None, straighten: bool = False,
               ocr: bool = False) -> CleanedPage:
    """Decode and clean page ``index`` of an open ``core.imageio.Upload``; only its output pixels are kept
    (its PNGs are made when asked for). ``straighten``: made upright and level first; ``ocr``: its text read."""
    from core.imageio import gray_to_float

    page = upload.page(index)
    image, turn, dpi, note = page.image, None, page.dpi, page.note
    del page  # only its image is needed (``gray`` below)
    if straighten:
        from core.documents.orient import straighten as upright

        image, turn = upright(image)
    size, gray = image.size, np.asarray(image)
    del image
    # clean_both, step by step: the page stays 8-bit while it is cleaned and each full-page array is let go
    # once used (a 40-megapixel page peaks ~0.6 GB lower)
    normalized = normalize(gray_to_float(gray))
    cleaned = clean_array(model, gray, progress=tick, normalized=normalized)
    del gray
    ink = ~binarize(normalized)
    del normalized
    paper = kept_marks(mend_dropouts(cleaned), ink)
    del ink
    full_strokes(cleaned, paper)
    bits = np.packbits(paper, axis=1)
    del paper
    cleaned *= 255.0  # in place: a page can be 40 megapixels
    cleaned += 0.5
    result = CleanedPage(upload.name, index, upload.count, size, dpi, pixels=(cleaned.astype(np.uint8), bits),
                         note=note, turn=turn)
    if ocr:
        from core.searchable_pdf import ocr_page

        result.lines = ocr_page(result)
    return result


def clean_upload(model, data: bytes, filename: str, dpi: int, left: int | None = None,
                 progress: Callable[[float], None] | None = None, whole: bool = True,
                 on_error: Callable[[int, Exception], None] | None = None, **options: bool) -> Iterator[CleanedPage]:
    """Clean one file page by page on the worker (open → for each page: decode → clean → release the input).

    ``InputError`` naming the file when it breaks a limit (before any page) or a page is damaged.
    ``left``: pixels still allowed in the job; ``progress``: fraction of this file done (by pixels);
    ``whole``: see ``core.imageio.open_upload``; ``on_error(index, error)``: a bad page is reported there
    and skipped, and the file's other pages are cleaned; ``options``: ``clean_page``'s ``straighten`` and ``ocr``."""
    from core.imageio import InputError, open_upload

    upload = on_worker(lambda _: open_upload(data, filename, dpi, left, whole=whole))
    try:
        done, total = 0, max(upload.pixels, 1)
        for i, (w, h) in enumerate(upload.sizes):
            tick = (lambda f, d=done, n=w * h: progress((d + f * n) / total)) if progress else None
            try:
                page = on_worker(partial(clean_page, model, upload, i, **options), progress=tick)
            except InputError as e:
                if on_error is None:
                    raise
                on_error(i, e)
            else:
                yield page
            done += w * h
            if progress:
                progress(done / total)
    finally:
        on_worker(lambda _: upload.close())


def zip_bytes(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A ZIP archive in memory of (name, content) files (stored: PNGs are compressed already)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            z.writestr(name, data)
    return buf.getvalue()


def _pdf_layout(width_px: int, height_px: int, dpi: tuple[float, float]) -> tuple[float, float, float, float]:
    """img2pdf page layout: each page at its image's size and resolution. Viewers want sides within
    ``PDF_MIN_SIDE``..``PDF_MAX_SIDE`` units; img2pdf scales a larger page down by a /UserUnit of a power
    of ten, and a side that would then be too short is widened with white margin (e.g. a 1×100000 strip)."""
    import img2pdf

    w, h = 72.0 * width_px / dpi[0], 72.0 * height_px / dpi[1]
    unit = img2pdf.find_scale(w, h) if max(w, h) > PDF_MAX_SIDE else 1
    return max(w, PDF_MIN_SIDE * unit), max(h, PDF_MIN_SIDE * unit), w, h


def _group4(png: bytes) -> bytes:
    """A 1-bit PNG as a CCITT Group 4 TIFF (img2pdf copies its data into the PDF as it is)."""
    with Image.open(io.BytesIO(png)) as img:
        buf = io.BytesIO()
        img.convert("1").save(buf, "TIFF", compression="group4", dpi=img.info.get("dpi", (150, 150)))
    return buf.getvalue()


def pdf_bytes(pages: list[CleanedPage], mode: str = "gray") -> bytes:
    """One PDF of the cleaned pages, each at its own size: lossless 8-bit gray (the PNG's data), or 1-bit
    CCITT Group 4 for black & white (a text page is tens of kB)."""
    import img2pdf

    if not pages:
        raise ValueError("no pages to write")
    images = [_group4(p.png("bw")) if mode == "bw" else p.png("gray") for p in pages]
    return img2pdf.convert(images, layout_fun=_pdf_layout)
