"""Evaluate document cleaning: synthetic and real held-out RMSE, leave-one-set-out F-measure/PSNR on real
historical pages, Tesseract CER.

Methods: the noisy scan itself, Otsu and Sauvola thresholding, median-background subtraction, our page
normalisation alone, the seed architecture (weights/documents_seed.keras) and the shipped model: its
gray output, its network's output alone and its black & white page. The shipped model trained on every real
historical page, so those pages are scored by the fold models (``weights/documents_folds/SET/``: the shipped
recipe with that set left out) and by the first stage, which saw none of them. Everything lands in
weights/documents.json; ``--markdown`` prints the tables.
"""
from __future__ import annotations

import argparse
import hashlib
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import median_filter
from skimage.filters import threshold_otsu, threshold_sauvola

from core.card import read_card, update_card
from core.config import DOCUMENTS_FIRST_STAGE, WEIGHTS_DIR, model_name
from core.documents import pairs as P
from core.documents.degrade import photograph
from core.documents.ocr import cer, ocr
from core.documents.normalize import normalize
from core.documents.real import (DIBCO_DIR, DIBCO_YEARS, HISTORICAL_DIR, REAL_DIR, BinaryPage, historical_sets,
                                 load_dibco, load_real_pairs, rescale, split_held_out)
from core.inference import load_model
from core.render import to_uint8
from core.serving.documents import BW_THRESHOLD, binarize, both_modes, clean_array

QUALITY_BAR = 0.75  # share of the noisy input's RMSE the shipped model must remove
DIBCO_F_TARGET, DIBCO_MARGIN = 90.0, 3.0  # held-out mean F % over the DIBCO years; points over Sauvola, every set
REAL_RMSE_TARGET = 0.040  # Kaggle held-out RMSE (issue 33)
FOLDS = "documents_folds"  # weights/FOLDS/SET/documents.keras: the shipped recipe trained without SET
BASE = "first stage (no historical pages)"  # weights/DOCUMENTS_FIRST_STAGE, what the shipped model starts from
DIBCO_MEAN = "DIBCO mean"
SYNTHETIC_RMSE_LIMIT, SYNTHETIC_CER_LIMIT = 0.065, 0.12  # issue 9's no-regression lines
SHIPPED, SHIPPED_BW = "shipped model", "shipped model, black & white"  # the gray output (at 0.5) and the bw mode
SHIPPED_NETWORK = "shipped network alone"  # the network's output, before the gray output takes the bw mode's strokes
UNSCALED = "shipped model, cleaned at the scan's size"  # never shrunk for wide strokes (core.documents.strokes)
TABLE_GRAY, TABLE_MARGIN, LIGHT_FALLOFF = 0.25, 0.15, 0.3  # a page photographed on a table (``on_a_table``)
BLUR, NOISE, QUALITY = 1.2, 0.03, 75  # a page photographed out of focus in poor light (``blurred_and_noisy``)
FADE, PAPER_QUANTILE = 0.3, 95  # ink faded to this share of its contrast with the paper (``faded``)
RESAMPLED = (0.5, 1.5, 2.0)  # coarser (< 1) and finer (> 1) scans: pixels a side as a share of the page's own


def otsu(noisy: np.ndarray) -> np.ndarray:
    """Otsu's global threshold (1979): ink (0) below it, paper (1) above."""
    return (noisy > threshold_otsu(noisy)).astype(np.float32)


def sauvola(noisy: np.ndarray, window: int = 25) -> np.ndarray:
    """Sauvola's local threshold (k = 0.2): ink (0) where darker than the threshold, paper (1) elsewhere."""
    return (noisy > threshold_sauvola(noisy, window_size=window, k=0.2)).astype(np.float32)


def median_background(noisy: np.ndarray, size: int = 31) -> np.ndarray:
    """Estimate the paper by a large median filter (text is thin) and subtract it: noisy - background + 1."""
    k = 4  # the median runs on a 4x smaller copy: same window in page pixels, 16x cheaper
    h, w = noisy.shape
    small = np.asarray(Image.fromarray(noisy).resize((max(1, w // k), max(1, h // k)), Image.BOX))
    bg = median_filter(small, size=max(3, size // k | 1), mode="reflect")
    bg = np.asarray(Image.fromarray(bg).resize((w, h), Image.BILINEAR))
    return np.clip(noisy - bg + 1, 0, 1).astype(np.float32)


def rmse(pred: list[np.ndarray], clean: list[np.ndarray]) -> float:
    """Root mean squared error over all pixels of all pages (the Kaggle metric, intensities in 0..1)."""
    se = sum(float(np.sum((p - c) ** 2)) for p, c in zip(pred, clean))
    return float(np.sqrt(se / sum(c.size for c in clean)))


def methods(weights: Path) -> dict:
    """Name -> function from a float (H, W) noisy page to a cleaned one; models only when present."""
    found = {"noisy input": lambda x: x, "Otsu threshold": otsu, "Sauvola threshold": sauvola,
             "median-background subtraction": median_background, "page normalisation alone": normalize}
    for label, architecture in (("seed architecture", "seed"), (SHIPPED, None)):
        name = model_name("documents", architecture)
        path = weights / f"{name}.keras"
        if path.is_file():
            model = load_model(name, path)
            found |= shipped(model) if label == SHIPPED else {label: lambda x, m=model: clean_array(m, x)}
    return found | first_stage(weights)


def first_stage(weights: Path) -> dict:
    """The first stage (what the shipped model starts from) as a method with the shipped gray output, if present."""
    path = weights / f"{DOCUMENTS_FIRST_STAGE}.keras"
    return {BASE: shipped(load_model(DOCUMENTS_FIRST_STAGE, path))[SHIPPED]} if path.is_file() else {}


def shipped(model, rescale: bool = True) -> dict:
    """The shipped model as methods: the outputs people get (the black & white page is scored on DIBCO only)
    and the network's output alone. The network and the two output modes run once per page (kept by the
    page's bytes), however many of these are scored on it. ``rescale=False``: never cleaned shrunk."""
    network: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # (network output, normalised page)
    outputs: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def key(x: np.ndarray) -> bytes:
        return hashlib.blake2b(np.ascontiguousarray(x).data, digest_size=16).digest() + repr(x.shape).encode()

    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if (k := key(x)) not in network:
            normalized = normalize(x)
            network[k] = clean_array(model, x, normalized=normalized, rescale=rescale), normalized
        return network[k]

    def modes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if (k := key(x)) not in outputs:
            cleaned, normalized = run(x)
            outputs[k] = both_modes(cleaned.copy(), normalized)
        return outputs[k]

    return {SHIPPED: lambda x: modes(x)[0], SHIPPED_NETWORK: lambda x: run(x)[0],
            SHIPPED_BW: lambda x: modes(x)[1].astype(np.float32)}


def gray(fns: dict) -> dict:
    """The methods whose output is a gray page (everything but the black & white mode)."""
    return {k: v for k, v in fns.items() if k != SHIPPED_BW}


def score(pages: list, fns: dict) -> tuple[dict, dict]:
    """RMSE per method over ``pages`` (objects with uint8 .clean/.noisy), and the outputs."""
    clean = [p.clean.astype(np.float32) / 255 for p in pages]
    noisy = [p.noisy.astype(np.float32) / 255 for p in pages]
    outputs = {name: [fn(x) for x in noisy] for name, fn in fns.items()}
    return {name: round(rmse(out, clean), 4) for name, out in outputs.items()}, outputs


def ocr_scores(pages: list, cleaned: dict[str, list[np.ndarray]]) -> dict:
    """Mean Tesseract CER on the clean page (ceiling), the noisy scan and each method's output (name -> pages)."""
    images = {"clean page": [p.clean for p in pages], "noisy input": [p.noisy for p in pages],
              **{name: [to_uint8(c) for c in out] for name, out in cleaned.items()}}
    with ThreadPoolExecutor(2) as ex:  # tesseract runs as a subprocess per page
        return {name: round(float(np.mean(list(ex.map(lambda a: cer(ocr(a[0]), a[1]),
                                                          [(im, p.text) for im, p in zip(imgs, pages)])))), 4)
                for name, imgs in images.items()}


def f_measure(ink: np.ndarray, truth: np.ndarray) -> float:
    """F-measure in % with ink as the positive class (the DIBCO ranking metric)."""
    tp = float(np.sum(ink & truth))
    precision, recall = tp / max(ink.sum(), 1), tp / max(truth.sum(), 1)
    return 100 * 2 * precision * recall / max(precision + recall, 1e-12)


def binary_psnr(ink: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of a binary page against the truth (C = 1): 10 log10(1 / share of wrong pixels)."""
    return float(10 * np.log10(1 / max(np.mean(ink != truth), 1e-10)))


def set_scores(pages: list[BinaryPage], fns: dict) -> dict:
    """Per method: mean per-page F-measure and PSNR over ``pages`` of the output binarised at half gray."""
    table = {}
    for name, fn in fns.items():
        inks = [~binarize(fn(p.scan.astype(np.float32) / 255)) for p in pages]
        table[name] = {"f_measure": round(float(np.mean([f_measure(i, p.ink) for i, p in zip(inks, pages)])), 2),
                       "psnr": round(float(np.mean([binary_psnr(i, p.ink) for i, p in zip(inks, pages)])), 2)}
    return table


def dibco_scores(years: dict[str, list[BinaryPage]], fns: dict) -> dict:
    """Per year and method: mean per-page F-measure and PSNR of the output binarised as the black & white mode."""
    table: dict = {}
    for year, pages in years.items():
        for name, row in set_scores(pages, fns).items():
            table.setdefault(name, {})[year] = row
    for row in table.values():
        row["mean"] = {k: round(float(np.mean([row[y][k] for y in years])), 2) for k in ("f_measure", "psnr")}
    return table


def historical_targets(table: dict, method: str = SHIPPED) -> dict:
    """Whether ``method`` meets issue 33's held-out targets: DIBCO mean F, every set over Sauvola + 3."""
    ours, sauvola_row = table[method], table["Sauvola threshold"]
    return {"dibco_mean_f_measure": ours[DIBCO_MEAN]["f_measure"] >= DIBCO_F_TARGET,
            "every_set_beats_sauvola_by_3": all(
                ours[s]["f_measure"] >= sauvola_row[s]["f_measure"] + DIBCO_MARGIN for s in ours if s != DIBCO_MEAN)}


def fold_path(weights: Path, held_out: str) -> Path | None:
    """The cleaner that scores set ``held_out``: its fold's (``FOLDS/SET/``), or the shipped one when its recipe
    never trains on that set (``skip_sets``); None when neither is there."""
    path = weights / FOLDS / held_out / "documents.keras"
    if path.is_file():
        return path
    shipped_path = weights / "documents.keras"
    skipped = read_card(shipped_path.with_suffix(".json")).get("recipe", {}).get("skip_sets", "") \
        if shipped_path.is_file() else ""
    return shipped_path if held_out in skipped.split(",") else None


def fold_model(path: Path, held_out: str, pages: list[BinaryPage]):
    """The cleaner at ``path``, after checking its card: it left ``held_out`` out and none of ``pages`` trained it."""
    card = read_card(path.with_suffix(".json"))
    recipe = card["recipe"]
    trained = set(card["data"].get("historical", {}).get("train_pages", []))
    left_out = recipe.get("hold_out") == held_out or held_out in recipe.get("skip_sets", "").split(",")
    if not left_out or trained & {p.name for p in pages}:
        raise ValueError(f"{path} trained on pages of {held_out}: it cannot score them")
    return load_model("documents", path)


def historical_scores(sets: dict[str, list[BinaryPage]], weights: Path, with_ocr: bool = True) -> dict:
    """Leave-one-set-out on the real historical pages: each set scored by the fold cleaner that never saw it,
    beside the classical methods and the first stage; the DIBCO years' mean; Tesseract on the printed pages."""
    fixed = {"noisy input": lambda x: x, "Otsu threshold": otsu, "Sauvola threshold": sauvola,
             "page normalisation alone": normalize} | first_stage(weights)
    table: dict = {}
    printed: list[tuple[BinaryPage, dict]] = []
    cleaners: dict = {}  # set -> (its fold cleaner, that cleaner's shipped methods: their outputs are kept)
    for name, pages in sets.items():
        fns = dict(fixed)
        if path := fold_path(weights, name):
            model = fold_model(path, name, pages)
            cleaners[name] = model, shipped(model)
            fns |= {SHIPPED: cleaners[name][1][SHIPPED], SHIPPED_BW: cleaners[name][1][SHIPPED_BW]}
        for method, row in set_scores(pages, fns).items():
            table.setdefault(method, {})[name] = row
        printed += [(p, fns) for p in pages if name in DIBCO_YEARS and p.name.split("/")[-1].startswith("P")]
    for row in table.values():
        years = [row[y] for y in DIBCO_YEARS if y in row]
        if years:
            row[DIBCO_MEAN] = {k: round(float(np.mean([r[k] for r in years])), 2) for k in ("f_measure", "psnr")}
    result = {"pages": {name: len(pages) for name, pages in sets.items()}, "binarised_at": BW_THRESHOLD,
              "scores": table}
    if SHIPPED in table and DIBCO_MEAN in table[SHIPPED] and len(table[SHIPPED]) == len(sets) + 1:
        result["targets_met"] = historical_targets(table)
        result["targets_met_black_and_white"] = historical_targets(table, SHIPPED_BW)
    if years := {y: pages for y, pages in sets.items() if y in DIBCO_YEARS}:
        result["captures"] = captures(years, cleaners)
    if with_ocr and printed:
        result["tesseract_cer_printed"] = printed_ocr(printed, [m for m in ("noisy input", "Otsu threshold",
                                                                             "Sauvola threshold", BASE, SHIPPED,
                                                                             SHIPPED_BW)
                                                                if all(m in fns for _, fns in printed)])
    return result


def on_a_table(page: BinaryPage) -> BinaryPage:
    """``page`` photographed lying on a dark table: a margin of ``TABLE_MARGIN`` of its shorter side around it, the
    light falling off by ``LIGHT_FALLOFF`` across the photo; the table is paper in the truth."""
    h, w = page.scan.shape
    m = int(TABLE_MARGIN * min(h, w))
    photo = np.full((h + 2 * m, w + 2 * m), TABLE_GRAY * 255, np.float32)
    photo[m:m + h, m:m + w] = page.scan
    photo *= 1 - LIGHT_FALLOFF * np.arange(w + 2 * m, dtype=np.float32) / (w + 2 * m)
    ink = np.zeros(photo.shape, bool)
    ink[m:m + h, m:m + w] = page.ink
    return BinaryPage(page.name, to_uint8(photo / 255), ink)


def blurred_and_noisy(page: BinaryPage) -> BinaryPage:
    """``page`` photographed slightly out of focus in poor light (``photograph``: Gaussian blur ``BLUR`` px, sensor
    noise ``NOISE``, JPEG at ``QUALITY``); the same noise for the same page every time."""
    rng = np.random.default_rng(zlib.crc32(page.name.encode()))
    return BinaryPage(page.name, photograph(page.scan, BLUR, NOISE, rng, QUALITY), page.ink)


def faded(page: BinaryPage) -> BinaryPage:
    """``page`` with its ink faded towards the paper: every pixel darker than the paper (the scan's
    ``PAPER_QUANTILE`` percentile) keeps ``FADE`` of its difference from it."""
    scan = page.scan.astype(np.float32)
    paper = np.float32(np.percentile(scan, PAPER_QUANTILE))
    return BinaryPage(page.name, to_uint8((scan + np.maximum(paper - scan, 0) * (1 - FADE)) / 255), page.ink)


# The DIBCO years captured otherwise: as scanned, resampled to fewer or more pixels a side (a coarser or a finer
# scan), on a table, blurred and noisy, faded.
CAPTURES: dict[str, Callable[[BinaryPage], BinaryPage]] = (
    {"×1": lambda p: p} | {f"×{f:g}": partial(rescale, factor=f) for f in RESAMPLED}
    | {"on a table": on_a_table, "blurred, noisy": blurred_and_noisy, "faded": faded})


def captures(years: dict[str, list[BinaryPage]], cleaners: dict) -> dict:
    """The DIBCO years captured as ``CAPTURES`` make them, each cleaned by its fold's cleaner (``cleaners``: year ->
    (cleaner, ``shipped(cleaner)``), as ``historical_scores`` made them) as shipped and at the scan's size, beside
    Sauvola: mean F % over the years, and per year; {} when a year has no fold cleaner."""
    table: dict = {}
    for year, pages in years.items():
        if year not in cleaners:
            return {}
        model, methods = cleaners[year]
        fns = {SHIPPED: methods[SHIPPED], UNSCALED: shipped(model, rescale=False)[SHIPPED],
               "Sauvola threshold": sauvola}
        for capture, alter in CAPTURES.items():
            for name, row in set_scores([alter(p) for p in pages], fns).items():
                table.setdefault(name, {}).setdefault(capture, {})[year] = row["f_measure"]
    return {"f_measure": {name: {capture: {"mean": round(float(np.mean(list(by_year.values()))), 2)} | by_year
                                 for capture, by_year in row.items()} for name, row in table.items()}}


def printed_ocr(pages: list[tuple[BinaryPage, dict]], methods: list[str]) -> dict:
    """Mean Tesseract CER on printed pages, each cleaned by its own methods, against Tesseract's reading of the
    ground truth (the contests have no transcriptions, so the reference is the perfect binary page's text)."""
    with ThreadPoolExecutor(2) as ex:  # ink black on white paper
        refs = list(ex.map(lambda a: ocr(to_uint8(~a[0].ink)), pages))
        return {name: round(float(np.mean(list(ex.map(
            lambda a: cer(ocr(to_uint8(binarize(a[0][1][name](a[0][0].scan.astype(np.float32) / 255)))), a[1]),
            zip(pages, refs))))), 4) for name in methods} | {"pages": len(pages)}


def evaluate(n_pages: int = P.HELD_OUT_PAGES, weights: Path = WEIGHTS_DIR, with_ocr: bool = True,
             real_dir: str | Path = REAL_DIR, dibco_dir: str | Path = DIBCO_DIR, write: bool = True,
             historical_dir: str | Path = HISTORICAL_DIR) -> dict:
    """Score every method on the held-out pages; write the results into weights/documents.json."""
    with P.executor(2) as pool:
        pages = P.held_out_pairs(n_pages, pool)
    fns = methods(weights)
    table, outputs = score(pages, gray(fns))
    result = {"held_out_synthetic": {"pages": len(pages), "size": list(P.HELD_OUT_SIZE),
                                     "sha256": P.checksum(pages), "rmse": table}}
    if SHIPPED in table:
        removed = 1 - table[SHIPPED] / table["noisy input"]
        baselines = [v for k, v in table.items() if k not in (SHIPPED, SHIPPED_NETWORK, BASE)]
        result["held_out_synthetic"]["rmse_removed"] = round(removed, 4)
        result["held_out_synthetic"]["quality_bar_met"] = bool(
            removed >= QUALITY_BAR and table[SHIPPED] < min(baselines))
        if with_ocr:
            bw = [fns[SHIPPED_BW](p.noisy.astype(np.float32) / 255) for p in pages]
            result["held_out_synthetic"]["tesseract_cer"] = ocr_scores(pages, {
                SHIPPED: outputs[SHIPPED], SHIPPED_NETWORK: outputs[SHIPPED_NETWORK], SHIPPED_BW: bw})
    real_train, real_held = split_held_out(load_real_pairs(real_dir)) if real_dir else ([], [])
    if real_held:
        rmse_real = score(real_held, gray(fns))[0]
        result["held_out_real"] = {"pages": [p.name for p in real_held], "rmse": rmse_real,
                                   "target_met": rmse_real.get(SHIPPED, 1) <= REAL_RMSE_TARGET}
    else:
        result["held_out_real"] = f"not measured: {REAL_DIR} is absent on the machine that evaluated"
    sets = historical_sets(dibco_dir, historical_dir)
    result["historical"] = (historical_scores(sets, weights, with_ocr) if sets else
                            f"not measured: {DIBCO_DIR} and {HISTORICAL_DIR} are absent on the machine that evaluated")
    card = weights / "documents.json"
    if write and card.is_file():
        update_card(card, evaluation=result)
    return result


def checkpoint_scores(folder: Path, every: int = 4, n_pages: int = P.HELD_OUT_PAGES, real_dir: str | Path = REAL_DIR,
                      dibco_dir: str | Path = DIBCO_DIR, report: Callable[[dict], None] | None = None,
                      average: tuple[int, int] | None = None) -> list[dict]:
    """Score every ``every``-th epoch's weights of a run trained with ``--checkpoints`` (and its last one) as
    the shipped model would be used: gray output RMSE on the synthetic and real held-out pages, DIBCO
    F-measure and PSNR of the gray output at half gray (which the black & white page equals). With
    ``average`` (first, last epoch), score the mean of those epochs' weights instead (one row)."""
    from core.models.documents import ARCHITECTURES
    from core.training.documents import Recipe, mean_weights, saved_epochs

    card = read_card(folder / "documents.json")
    model = ARCHITECTURES[Recipe(**card["recipe"]).architecture]()

    def weights(f: Path) -> list[np.ndarray]:
        model.load_weights(f)
        return model.get_weights()
    epochs = saved_epochs(folder)
    if average:
        chosen = {f"{average[0]}-{average[1]}": [f for e, f in epochs.items() if average[0] <= e <= average[1]]}
    else:
        chosen = {e: [f] for e, f in epochs.items() if e % every == 0 or e == max(epochs)}
    with P.executor(2) as pool:
        synthetic = P.held_out_pairs(n_pages, pool)
    real = split_held_out(load_real_pairs(real_dir))[1] if real_dir else []
    years = load_dibco(dibco_dir)
    rows = []
    for epoch, files in chosen.items():
        if not files:
            raise ValueError(f"{folder} kept no weights of epochs {epoch}")
        model.set_weights(mean_weights(weights(f) for f in files))
        fns = {SHIPPED: shipped(model)[SHIPPED]}  # a fresh cache of outputs for these weights
        row = {"epoch": epoch} | {name: score(pages, fns)[0][SHIPPED]
                                  for name, pages in (("synthetic", synthetic), ("real", real)) if pages}
        if years:
            row["dibco"] = dibco_scores(years, fns)[SHIPPED]
        rows.append(row)
        if report:
            report(row)
    return rows


def _and(values: list[float]) -> str:
    """``[1.5, 2.0]`` -> ``"1.5 and 2"``."""
    words = [f"{v:g}" for v in values]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _resampled(columns: list[str]) -> str:
    """The captures table's resampled columns (``×0.5``, ``×2`` ...) in words, ending in ", and "; "" when none."""
    factors = [float(c[1:]) for c in columns if c.startswith("×") and c != "×1"]
    coarser, finer = [f for f in factors if f < 1], [f for f in factors if f > 1]
    parts = [f"{_and(coarser)} times as many pixels a side (a coarser scan: {300 * coarser[0]:g} dpi for a 300 dpi "
             "page)"] if coarser else []
    if finer:
        parts.append(f"{_and(finer)} times" + ("" if coarser else " as many pixels a side") + " (a finer scan)")
    return "resampled to " + ", to ".join(parts) + ", and " if parts else ""


def markdown(result: dict) -> str:
    """The evaluation as Markdown tables (the README's copy is checked against this by a test)."""
    synth, real, hist = result["held_out_synthetic"], result["held_out_real"], result.get("historical")
    real_rmse = real["rmse"] if isinstance(real, dict) else {}
    lines = [f"RMSE (0..1, lower is better) on {synth['pages']} held-out synthetic pages "
             f"({synth['size'][0]}×{synth['size'][1]}) and "
             + (f"{len(real['pages'])} held-out real Kaggle pages (group-disjoint):" if real_rmse
                else "no real pages:"),
             "", "| method | synthetic | real (Kaggle) |", "| --- | ---: | ---: |"]
    for name, value in synth["rmse"].items():
        bold = "**" if name == SHIPPED else ""
        lines.append(f"| {name} | {bold}{value:.4f}{bold} | {bold}{real_rmse.get(name, float('nan')):.4f}{bold} |")
    if isinstance(hist, dict):
        cols = list(hist["pages"]) + ([DIBCO_MEAN] if DIBCO_MEAN in hist["scores"].get("Otsu threshold", {}) else [])
        lines += ["", "Real historical pages, leave one set out (" + ", ".join(
                  f"{y}: {n}" for y, n in hist["pages"].items()) + " pages): the shipped model's rows are each set "
                  "cleaned by the shipped recipe trained without that set; gray outputs binarised at "
                  f"{hist['binarised_at']:g}; mean per-page F-measure % / PSNR dB:",
                  "", "| method | " + " | ".join(cols) + " |", "| --- |" + " ---: |" * len(cols)]
        for name, row in hist["scores"].items():
            bold = "**" if name in (SHIPPED, SHIPPED_BW) else ""
            lines.append(f"| {name} | " + " | ".join(
                f"{bold}{row[c]['f_measure']:.1f} / {row[c]['psnr']:.2f}{bold}" if c in row else "–"
                for c in cols) + " |")
    if isinstance(hist, dict) and hist.get("captures"):
        rows = hist["captures"]["f_measure"]
        columns = list(next(iter(rows.values())))
        lines += ["", "The DIBCO years captured otherwise, each year cleaned by its fold's model: "
                  f"{_resampled(columns)}photographed on a dark table (a margin of "
                  f"{100 * TABLE_MARGIN:.0f} % of the shorter side, gray {TABLE_GRAY:g}, the light falling off by "
                  f"{100 * LIGHT_FALLOFF:.0f} % across; the table is paper in the truth), blurred and noisy "
                  f"(out of focus in poor light: Gaussian blur {BLUR:g} px, noise {NOISE:g}, JPEG quality {QUALITY}), "
                  f"and faded (the ink keeping {100 * FADE:.0f} % of its contrast with the paper); "
                  "mean F-measure % over the years:",
                  "", "| method | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
        for name, row in rows.items():
            bold = "**" if name == SHIPPED else ""
            lines.append(f"| {name} | " + " | ".join(f"{bold}{row[c]['mean']:.1f}{bold}" for c in columns) + " |")
    cer_rows = [("synthetic held-out pages (against the printed text)", synth.get("tesseract_cer", {}))]
    if isinstance(hist, dict) and "tesseract_cer_printed" in hist:
        ocr_printed = dict(hist["tesseract_cer_printed"])
        cer_rows.append((f"DIBCO printed pages ({ocr_printed.pop('pages')}, each cleaned by its fold's model, "
                         "against Tesseract's reading of the ground truth)", ocr_printed))
    for title, row in cer_rows:
        if row:
            lines += ["", f"Tesseract CER on {title}: "
                      + ", ".join(f"{k} {v:.3f}" for k, v in row.items()) + "."]
    return "\n".join(lines) + "\n"


def epoch_range(text: str) -> tuple[int, int]:
    """``"55-110"`` -> (55, 110), for ``--average``."""
    first, _, last = text.partition("-")
    if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise argparse.ArgumentTypeError(f"{text!r} is not FIRST-LAST, two epochs such as 55-110")
    return int(first), int(last)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate documents", description=__doc__)
    parser.add_argument("--pages", type=int, default=P.HELD_OUT_PAGES, help="held-out pages to use")
    parser.add_argument("--no-ocr", action="store_true", help="skip the Tesseract CER")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR, help="folder with documents*.keras")
    parser.add_argument("--dry-run", action="store_true", help="print only, do not update the card")
    parser.add_argument("--markdown", action="store_true", help="only print the card's tables as Markdown")
    parser.add_argument("--checkpoints", type=Path, metavar="RUN",
                        help="instead: score the epochs a "
                             "`python -m core.train documents --checkpoints --out RUN` kept")
    parser.add_argument("--every", type=int, default=4, help="with --checkpoints: score every this many epochs")
    parser.add_argument("--average", metavar="FIRST-LAST", type=epoch_range,
                        help="with --checkpoints: score the mean of these epochs' weights instead")
    args = parser.parse_args(argv)
    if args.checkpoints:
        checkpoint_scores(args.checkpoints, args.every, args.pages, report=lambda row: print(row, flush=True),
                          average=args.average)
        return
    if args.markdown:
        print(markdown(read_card(args.weights / "documents.json")["evaluation"]), end="")
        return
    result = evaluate(args.pages, args.weights, not args.no_ocr, write=not args.dry_run)
    print(markdown(result), end="")
    synth = result["held_out_synthetic"]
    if "rmse_removed" in synth:
        print(f"\nshipped model removes {100 * synth['rmse_removed']:.1f} % of the noisy synthetic RMSE; "
              f"quality bar (>= {QUALITY_BAR:.0%} and beats every baseline): "
              f"{'met' if synth['quality_bar_met'] else 'NOT met'}")
    hist = result["historical"]
    for mode, field in (("gray at 0.5", "targets_met"), ("black & white", "targets_met_black_and_white")):
        for key, met in (hist.get(field, {}) if isinstance(hist, dict) else {}).items():
            print(f"historical target {key} ({mode}): {'met' if met else 'NOT met'}")
    if isinstance(result["held_out_real"], dict):
        print(f"real RMSE <= {REAL_RMSE_TARGET}: {'met' if result['held_out_real']['target_met'] else 'NOT met'}")
