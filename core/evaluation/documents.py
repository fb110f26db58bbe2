"""Evaluate document cleaning on the held-out pages: RMSE of every method, Tesseract CER, into the card.

Methods: the noisy scan itself, Sauvola thresholding, median-background subtraction, the seed
architecture trained on the same budget (weights/documents_seed.keras) and the shipped model.
"""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import median_filter
from skimage.filters import threshold_sauvola

from core.card import update_card
from core.clean import clean_array
from core.config import WEIGHTS_DIR
from core.documents import pairs as P
from core.documents.ocr import cer, ocr
from core.documents.real import REAL_DIR, load_real_pairs, split_held_out
from core.inference import load_model

QUALITY_BAR = 0.75  # share of the noisy input's RMSE the shipped model must remove


def sauvola(noisy: np.ndarray, window: int = 25) -> np.ndarray:
    """Sauvola's local threshold: ink (0) where darker than the threshold, paper (1) elsewhere."""
    return (noisy > threshold_sauvola(noisy, window_size=window)).astype(np.float32)


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
    found = {"noisy input": lambda x: x, "Sauvola threshold": sauvola, "median-background subtraction": median_background}
    for label, name in (("seed architecture", "documents_seed"), ("shipped model", "documents")):
        path = weights / f"{name}.keras"
        if path.is_file():
            model = load_model(name, path)
            found[label] = lambda x, m=model: clean_array(m, x)
    return found


def score(pages: list, fns: dict) -> tuple[dict, dict]:
    """RMSE per method over ``pages`` (objects with uint8 .clean/.noisy), and the outputs."""
    clean = [p.clean.astype(np.float32) / 255 for p in pages]
    noisy = [p.noisy.astype(np.float32) / 255 for p in pages]
    outputs = {name: [fn(x) for x in noisy] for name, fn in fns.items()}
    return {name: round(rmse(out, clean), 4) for name, out in outputs.items()}, outputs


def ocr_scores(pages: list, cleaned: list[np.ndarray]) -> dict:
    """Mean Tesseract CER on the clean page (ceiling), the noisy scan and the shipped model's output."""
    u8 = lambda x: (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)  # noqa: E731
    images = {"clean page": [p.clean for p in pages], "noisy input": [p.noisy for p in pages],
              "shipped model": [u8(c) for c in cleaned]}
    with ThreadPoolExecutor(2) as ex:  # tesseract runs as a subprocess per page
        return {name: round(float(np.mean(list(ex.map(lambda a: cer(ocr(a[0]), a[1]),
                                                          [(im, p.text) for im, p in zip(imgs, pages)])))), 4)
                for name, imgs in images.items()}


def evaluate(n_pages: int = P.HELD_OUT_PAGES, weights: Path = WEIGHTS_DIR, with_ocr: bool = True,
             real_dir: str | Path = REAL_DIR, write: bool = True) -> dict:
    """Score every method on the held-out pages; write the results into weights/documents.json."""
    with P.executor(2) as pool:
        pages = P.held_out_pairs(n_pages, pool)
    fns = methods(weights)
    table, outputs = score(pages, fns)
    result = {"held_out_synthetic": {"pages": len(pages), "size": list(P.HELD_OUT_SIZE),
                                     "sha256": P.checksum(pages), "rmse": table}}
    if "shipped model" in table:
        removed = 1 - table["shipped model"] / table["noisy input"]
        baselines = [v for k, v in table.items() if k != "shipped model"]
        result["held_out_synthetic"]["rmse_removed"] = round(removed, 4)
        result["held_out_synthetic"]["quality_bar_met"] = bool(
            removed >= QUALITY_BAR and table["shipped model"] < min(baselines))
        if with_ocr:
            result["held_out_synthetic"]["tesseract_cer"] = ocr_scores(pages, outputs["shipped model"])
    real_train, real_held = split_held_out(load_real_pairs(real_dir)) if real_dir else ([], [])
    if real_held:
        result["held_out_real"] = {"pages": [p.name for p in real_held], "rmse": score(real_held, fns)[0]}
    else:
        result["held_out_real"] = f"not measured: {REAL_DIR} is absent on the machine that evaluated"
    card = weights / "documents.json"
    if write and card.is_file():
        update_card(card, evaluation=result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate documents", description=__doc__)
    parser.add_argument("--pages", type=int, default=P.HELD_OUT_PAGES, help="held-out pages to use")
    parser.add_argument("--no-ocr", action="store_true", help="skip the Tesseract CER")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR, help="folder with documents*.keras")
    parser.add_argument("--dry-run", action="store_true", help="print only, do not update the card")
    args = parser.parse_args(argv)
    result = evaluate(args.pages, args.weights, not args.no_ocr, write=not args.dry_run)
    synth = result["held_out_synthetic"]
    print(f"held-out synthetic pages: {synth['pages']} ({synth['size'][0]}x{synth['size'][1]} px)")
    print(f"{'method':32s} RMSE")
    for name, value in synth["rmse"].items():
        print(f"{name:32s} {value:.4f}")
    if "rmse_removed" in synth:
        print(f"shipped model removes {100 * synth['rmse_removed']:.1f} % of the noisy RMSE; "
              f"quality bar (>= {QUALITY_BAR:.0%} and beats every baseline): "
              f"{'met' if synth['quality_bar_met'] else 'NOT met'}")
    if "tesseract_cer" in synth:
        print("Tesseract CER: " + ", ".join(f"{k} {v:.3f}" for k, v in synth["tesseract_cer"].items()))
    real = result["held_out_real"]
    print("held-out real pages: " + (str(real["rmse"]) if isinstance(real, dict) else real))
