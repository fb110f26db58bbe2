"""Reading a page's text with pixel boxes: RapidOCR (ONNX models inside its wheel, offline, CPU) by default,
Tesseract where the system has it. Lines come back in reading order (columns before rows, table rows left
to right); docs/ocr.md compares the two engines."""
from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ENGINES = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "rapidocr"
READ_SIDE = 2000  # RapidOCR cuts lines for its recogniser from a copy at most this many pixels a side (its default)
DETECT_PIXELS = 960 * 680  # ... and finds them on a copy of at most this many pixels (A4 960 pixels high: the text
# on a page that big is large): docs/ocr.md
SMALL_SIDE = 736  # a smaller page is enlarged to this short side for the detector (RapidOCR's own rule)
THREADS = 2  # the machines this serves have 2 cores: the detector's ONNX Runtime threads, lines read at once
MIN_SCORE = 0.5  # lines read with less confidence are dropped (RapidOCR's default)
MIN_TEXT_SIDE = 8  # a page narrower than this (pixels) holds no text to read
STRIP_RATIO = 25  # a page longer than this many times its width is read in pieces that are not
COLUMN_FILL = 0.5  # a vertical gap splits columns when the lines on each side fill this share of their width
BOX_MARGIN = 0.2  # share of a line box's height, top and bottom, beyond the ink (RapidOCR widens what it detects):
# rows may overlap by it, and the PDF's invisible text spans the rest
COLUMN_LINE = 8  # ... and are at least this many line heights long (a table's cells are shorter: rows first)

Box = tuple[float, float, float, float]  # (left, top, right, bottom) in page pixels


@dataclass(frozen=True)
class Word:
    """One recognised word and where its pixels are."""

    text: str
    box: Box


@dataclass(frozen=True)
class Line:
    """One recognised line: its words left to right, its box and the engine's confidence."""

    words: tuple[Word, ...]
    box: Box
    score: float

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def text_of(lines: list[Line]) -> str:
    """The page's plain text: one line per recognised line, in reading order."""
    return "\n".join(line.text for line in lines)


def available(engine: str) -> bool:
    """Whether ``engine`` can run here (Tesseract needs its program installed by the system)."""
    if engine == "rapidocr":
        return True
    return engine == "tesseract" and shutil.which("tesseract") is not None


_LOCK = threading.Lock()  # RapidOCR keeps per-call switches (use_det, use_rec, the detector's size) on the engine


# The models inside rapidocr's wheel, named so that it never looks for (or downloads) others.
RAPID_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx",
                "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}


@lru_cache(maxsize=1)
def _rapid():
    import rapidocr
    from rapidocr import RapidOCR

    models = Path(rapidocr.__file__).parent / "models"
    paths = {f"{task}.model_path": str(models / name) for task, name in RAPID_MODELS.items()}
    engine = RapidOCR(params={**paths, "Global.log_level": "error", "Global.use_cls": False,
                              "Global.text_score": MIN_SCORE, "Global.max_side_len": READ_SIDE,
                              "Rec.rec_batch_num": 1})
    # RapidOCR's settings have no switch for spinning threads: its three sessions are replaced (rapidocr pinned)
    for model, threads in ((engine._load_det_model(), THREADS), (engine._load_rec_model(), 1),
                           (engine._load_cls_model(), 1)):
        model.session.session = _session(model.session.session._model_path, threads)
    engine.text_rec = _Lines(engine.text_rec)
    return engine


def _session(path: str, threads: int):
    """An ONNX Runtime session on ``threads`` threads that sleep between operators instead of spinning (RapidOCR's
    spin: on 2 shared cores a spinning thread takes the time the other work needs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.enable_cpu_mem_arena = False  # as RapidOCR sets it: memory goes back after each page
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


class _Lines:
    """RapidOCR's recogniser reading ``THREADS`` lines at once, one line a run (lines batched together are padded
    to the widest, and one run split over threads waits on its slowest part: both cost more than they save)."""

    def __init__(self, recogniser):
        self.recogniser = recogniser
        self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="ocr-lines")

    def __call__(self, job):
        from rapidocr.ch_ppocr_rec import TextRecInput, TextRecOutput

        imgs = [job.img] if isinstance(job.img, np.ndarray) else list(job.img)
        if len(imgs) < 2:
            return self.recogniser(job)
        widest = np.argsort([-img.shape[1] / img.shape[0] for img in imgs], kind="stable")
        shares = [widest[k::THREADS] for k in range(THREADS)]  # dealt out widest first: about equal work
        outs = list(self.pool.map(lambda share: self.recogniser(
            TextRecInput([imgs[i] for i in share], job.return_word_box)), shares))
        txts, scores, words = [""] * len(imgs), [0.0] * len(imgs), [None] * len(imgs)
        for share, out in zip(shares, outs):
            for j, i in enumerate(share):
                txts[i], scores[i], words[i] = out.txts[j], out.scores[j], out.word_results[j]
        return TextRecOutput(imgs, tuple(txts), tuple(scores), tuple(words), max(o.elapse for o in outs),
                             outs[0].viser)


def _bounds(quad) -> Box:
    q = np.asarray(quad, np.float64).reshape(-1, 2)
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


def _find(page: np.ndarray, **steps):
    """RapidOCR on a whole uint8 page (``steps``: its switches), its detector on a copy of at most ``DETECT_PIXELS``
    pixels (a smaller page enlarged to ``SMALL_SIDE`` on its short side)."""
    h, w = page.shape[:2]
    engine = _rapid()
    det = engine.text_det
    if h * w * min(1.0, READ_SIDE / max(h, w)) ** 2 > DETECT_PIXELS:  # RapidOCR first shrinks it to READ_SIDE
        det.limit_type, det.limit_side_len = "max", int(max(h, w) * np.sqrt(DETECT_PIXELS / (h * w)))
    else:
        det.limit_type, det.limit_side_len = "min", SMALL_SIDE
    return engine(_rgb(page), use_det=True, use_cls=False, **steps)


def detect(page: np.ndarray) -> list[Box]:
    """Boxes of the text lines RapidOCR's detector finds on a uint8 (H, W) page (nothing read)."""
    with _LOCK:
        out = _find(page, use_rec=False)
    return [_bounds(q) for q in (out.boxes if getattr(out, "boxes", None) is not None else [])]


def line_scores(crops: list[np.ndarray]) -> list[float]:
    """RapidOCR's recognition confidence for each uint8 crop holding one line of text."""
    scores = []
    with _LOCK:
        for crop in crops:
            out = _rapid()(_rgb(crop), use_det=False, use_cls=False, use_rec=True)
            found = getattr(out, "scores", None)
            scores.append(float(found[0]) if found else 0.0)
    return scores


def upside_down(crops: list[np.ndarray]) -> list[float]:
    """RapidOCR's direction classifier: per uint8 crop of one line, the probability that it is upside down."""
    found = []
    with _LOCK:
        for crop in crops:
            label, p = _rapid()(_rgb(crop), use_det=False, use_cls=True, use_rec=False).cls_res[0]
            found.append(float(p) if label == "180" else 1.0 - float(p))
    return found


def _rgb(page: np.ndarray) -> np.ndarray:
    page = np.asarray(page, np.uint8)
    return np.repeat(page[:, :, None], 3, axis=2) if page.ndim == 2 else page


def readable(shape: tuple[int, ...]) -> bool:
    """Whether a page of this (H, W) can hold text to read whole: not too thin, not too long for its width."""
    return min(shape[:2]) >= MIN_TEXT_SIDE and max(shape[:2]) <= STRIP_RATIO * min(shape[:2])


def read(page: np.ndarray, engine: str = DEFAULT_ENGINE) -> list[Line]:
    """The text lines of a uint8 (H, W) page with word boxes in its pixels, in reading order (a long strip is
    read in pieces; one too thin for text has none)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown OCR engine {engine!r}; choose one of {', '.join(ENGINES)}")
    page = np.asarray(page, np.uint8)
    h, w = page.shape[:2]
    if min(h, w) < MIN_TEXT_SIDE:
        return []
    if not readable(page.shape):
        step, lines = STRIP_RATIO * min(h, w), []
        for at in range(0, max(h, w), step):
            piece = page[at:at + step] if h > w else page[:, at:at + step]
            dx, dy = (0, at) if h > w else (at, 0)
            lines += [_moved(line, dx, dy) for line in read(piece, engine)] if min(piece.shape[:2]) else []
        return lines
    lines = _read_tesseract(page) if engine == "tesseract" else _read_rapid(page)
    return [lines[i] for i in reading_order([line.box for line in lines])]


def _moved(line: Line, dx: float, dy: float) -> Line:
    move = lambda b: (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)  # noqa: E731
    return Line(tuple(Word(w.text, move(w.box)) for w in line.words), move(line.box), line.score)


def _read_rapid(page: np.ndarray) -> list[Line]:
    with _LOCK:
        out = _find(page, use_rec=True, return_word_box=True)
    if getattr(out, "txts", None) is None:
        return []
    words = out.word_results if len(out.word_results or ()) == len(out.txts) else [()] * len(out.txts)
    lines = []
    for quad, text, score, found in zip(out.boxes, out.txts, out.scores, words):
        box = _bounds(quad)
        found = [Word(t.strip(), _bounds(q)) for t, _, q in found if t.strip()]
        if not found or " ".join(w.text for w in found).split() != text.split():
            found = _split_words(text, box)  # the engine's word boxes disagree with its text: share the line out
        lines.append(Line(tuple(found), box, float(score)))
    return lines


def _split_words(text: str, box: Box) -> list[Word]:
    """Word boxes for a line read without them: the line's width shared out by characters."""
    words = text.split()
    x0, y0, x1, y1 = box
    per = (x1 - x0) / max(len(" ".join(words)), 1)
    out, at = [], x0
    for w in words:
        out.append(Word(w, (at, y0, at + per * len(w), y1)))
        at += per * (len(w) + 1)
    return out


def _read_tesseract(page: np.ndarray) -> list[Line]:
    import pytesseract
    from PIL import Image

    data = pytesseract.image_to_data(Image.fromarray(np.asarray(page, np.uint8)), config="--psm 3",
                                     output_type=pytesseract.Output.DICT)
    grouped: dict[tuple[int, int, int], list[tuple[Word, float]]] = {}
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if not text.strip() or conf < 0:
            continue
        x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        grouped.setdefault(key, []).append((Word(text.strip(), (x, y, x + w, y + h)), conf / 100))
    lines = []
    for found in grouped.values():
        words = tuple(w for w, _ in found)
        box = (min(w.box[0] for w in words), min(w.box[1] for w in words),
               max(w.box[2] for w in words), max(w.box[3] for w in words))
        lines.append(Line(words, box, float(np.mean([c for _, c in found]))))
    return lines


def reading_order(boxes: list[Box]) -> list[int]:
    """Indices of line boxes in reading order by recursive XY cuts at the widest gap: a vertical gap splits
    columns when the lines on both sides are long and fill their column (running text), else rows are split
    first (a table reads row by row, its cells left to right)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    height = float(np.median(b[:, 3] - b[:, 1])) if len(b) else 0.0
    # detected boxes reach beyond the ink above and below (RapidOCR unclips them): table rows would touch
    margin = BOX_MARGIN * (b[:, 3] - b[:, 1])
    b[:, 1] += margin
    b[:, 3] -= margin

    def gaps(idx: np.ndarray, axis: int, least: float) -> list[np.ndarray]:
        # the boxes cut in two at the widest gap along ``axis`` that is wider than ``least`` (else one part)
        lo, hi = b[idx, axis], b[idx, axis + 2]
        groups, widths, end = [], [], -np.inf
        for k in np.argsort(lo, kind="stable"):
            if not groups or lo[k] > end:
                widths.append(lo[k] - end)
                groups.append([])
            groups[-1].append(k)
            end = max(end, hi[k])
        k = int(np.argmax(widths[1:])) + 1 if len(groups) > 1 else 0
        if not k or widths[k] <= least:
            return [idx]
        return [idx[np.concatenate(groups[:k])], idx[np.concatenate(groups[k:])]]

    def filled(idx: np.ndarray) -> bool:  # lines of running text: long, and as wide as their column
        width = float(np.median(b[idx, 2] - b[idx, 0]))
        return width >= COLUMN_FILL * (b[idx, 2].max() - b[idx, 0].min()) and width >= COLUMN_LINE * height

    def order(idx: np.ndarray) -> list[int]:
        if len(idx) <= 1:
            return idx.tolist()
        cols = gaps(idx, 0, height)
        if len(cols) > 1 and all(filled(c) for c in cols):
            return order(cols[0]) + order(cols[1])
        rows = gaps(idx, 1, 0.0)
        if len(rows) > 1:
            return order(rows[0]) + order(rows[1])
        if len(cols) > 1:
            return order(cols[0]) + order(cols[1])
        return idx[np.lexsort((b[idx, 0], b[idx, 1]))].tolist()

    return order(np.arange(len(b)))
