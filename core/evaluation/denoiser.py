"""Evaluate denoisers on the 10k Fashion-MNIST test set: noisy input, 3×3 median, seed baseline, shipped."""
from __future__ import annotations

import argparse

import numpy as np

from core.card import update_card
from core.config import card_path
from core.data import load_fashion_mnist, to_float
from core.inference import load_model, model_exists, run_batched
from core.metrics import median_baseline, psnr, ssim
from core.noise import add_noise

SETTINGS = (("s&p", 0.05), ("s&p", 0.10), ("s&p", 0.20), ("gaussian", 0.1), ("gaussian", 0.2),
            ("speckle", 0.2), ("poisson", 0.1))
SHIPPED = "shipped U-Net"
MODELS = {"seed architecture": "denoiser_seed", SHIPPED: "denoiser"}
TARGET_SP10_DB = 28.0  # quality bar: mean PSNR of the shipped model at salt-and-pepper 10 %


def evaluate(limit: int | None = None, seed: int = 1234, data_dir: str | None = None) -> dict:
    """Mean PSNR (dB) and SSIM for every setting and method: {"s&p 0.1": {"median 3×3": {...}}}."""
    clean = to_float(load_fashion_mnist(data_dir).x_test)[:limit]
    models = {label: load_model(name) for label, name in MODELS.items() if model_exists(name)}
    results = {}
    for i, (kind, amount) in enumerate(SETTINGS):
        noisy = add_noise(clean, kind, amount, seed + i)
        outputs = {"noisy input": noisy, "median 3×3": median_baseline(noisy)}
        outputs |= {label: np.clip(run_batched(m, noisy), 0, 1) for label, m in models.items()}
        results[f"{kind} {amount:g}"] = {
            label: {"psnr_db": round(float(np.mean(psnr(clean, x))), 2), "ssim": round(float(np.mean(ssim(clean, x))), 4)}
            for label, x in outputs.items()
        }
    return results


def table(results: dict) -> str:
    """Results as a Markdown table, one row per setting, PSNR / SSIM per method."""
    methods = list(next(iter(results.values())))
    lines = ["| noise | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for setting, row in results.items():
        cells = [f"{row[m]['psnr_db']:.2f} dB / {row[m]['ssim']:.3f}" for m in methods]
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def quality_bar(results: dict) -> list[str]:
    """The quality bar's checks as "PASS …"/"FAIL …" lines: the s&p 10 % target, beat median and seed everywhere."""
    if SHIPPED not in next(iter(results.values())):
        return ["FAIL the shipped model is missing"]
    sp10 = results["s&p 0.1"][SHIPPED]["psnr_db"]
    lines = [f"{'PASS' if sp10 >= TARGET_SP10_DB else 'FAIL'} s&p 0.1: {sp10:.2f} dB (target ≥ {TARGET_SP10_DB:g} dB)"]
    for rival in ("median 3×3", "seed architecture"):
        margins = {s: row[SHIPPED]["psnr_db"] - row[rival]["psnr_db"] for s, row in results.items() if rival in row}
        if margins:
            worst = min(margins, key=margins.get)
            lines.append(f"{'PASS' if margins[worst] > 0 else 'FAIL'} beats {rival} in every row "
                         f"(smallest margin {margins[worst]:+.2f} dB, {worst})")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate denoiser", description=__doc__)
    parser.add_argument("--limit", type=int, help="evaluate on the first N test images only")
    parser.add_argument("--no-card", action="store_true", help="do not write the metrics into the model cards")
    args = parser.parse_args(argv)
    results = evaluate(args.limit)
    print(f"Mean per-image PSNR / SSIM on {args.limit or 10000} Fashion-MNIST test images\n")
    print(table(results))
    print("\n" + "\n".join(quality_bar(results)))
    if not args.no_card and not args.limit:
        for label, name in MODELS.items():
            if model_exists(name):
                update_card(card_path(name), test_metrics={
                    s: {"noisy input": r["noisy input"], "median 3×3": r["median 3×3"], "model": r[label]}
                    for s, r in results.items()})
        print("\nmetrics written to the model cards in weights/")
