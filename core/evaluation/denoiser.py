"""Evaluate denoisers on the 10k Fashion-MNIST test set: noisy input, 3×3 median, seed baseline, shipped."""
from __future__ import annotations

import argparse


from core.card import read_card, update_card
from core.config import card_path, model_name
from core.data import load_fashion_mnist, to_float
from core.serving import denoiser as serving
from core.serving.denoiser import MEDIAN, MODEL, NOISY

SETTINGS = (("s&p", 0.05), ("s&p", 0.10), ("s&p", 0.20), ("gaussian", 0.1), ("gaussian", 0.2),
            ("speckle", 0.2), ("poisson", 0.1))
SHIPPED = "shipped U-Net"
ARCHITECTURES = {"seed architecture": "seed", SHIPPED: None}  # a model's label in the table -> its weights
MODELS = {label: model_name("denoiser", arch) for label, arch in ARCHITECTURES.items()}
TARGET_SP10_DB = 28.0  # quality bar: mean PSNR of the shipped model at salt-and-pepper 10 %


def combine(per_model: dict[str, dict[str, dict]]) -> dict:
    """Each model's {setting: comparison means} (its card's ``test_metrics``) as one table:
    {"s&p 0.1": {"noisy input": {...}, "median 3×3": {...}, "seed architecture": {...}, "shipped U-Net": {...}}}."""
    first = next(iter(per_model.values()))
    return {setting: {NOISY: row[NOISY], MEDIAN: row[MEDIAN],
                      **{label: rows[setting][MODEL] for label, rows in per_model.items()}}
            for setting, row in first.items()}


def evaluate_models(limit: int | None = None, seed: int = 1234, data_dir: str | None = None) -> dict:
    """Per model on disk, its comparison means for every setting: {label: {"s&p 0.1": {"model": {...}, ...}}}."""
    clean = to_float(load_fashion_mnist(data_dir).x_test)[:limit]
    models = {label: serving.load(arch) for label, arch in ARCHITECTURES.items() if serving.available(arch)}
    return {label: {f"{kind} {amount:g}": serving.compare(clean, kind, amount, seed + i, model).means()
                    for i, (kind, amount) in enumerate(SETTINGS)}
            for label, model in models.items()}


def evaluate(limit: int | None = None, seed: int = 1234, data_dir: str | None = None) -> dict:
    """Mean PSNR (dB) and SSIM for every setting and method: {"s&p 0.1": {"median 3×3": {...}}}."""
    return combine(evaluate_models(limit, seed, data_dir))


def from_cards() -> dict:
    """The table :func:`evaluate` returns, as the model cards hold it (no TensorFlow, no data)."""
    return combine({label: read_card(card_path(name))["test_metrics"] for label, name in MODELS.items()})


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
    verdict = "PASS" if sp10 >= TARGET_SP10_DB else "FAIL"
    lines = [f"{verdict} s&p 0.1: {sp10:.2f} dB (target ≥ {TARGET_SP10_DB:g} dB)"]
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
    per_model = evaluate_models(args.limit)
    results = combine(per_model)
    print(f"Mean per-image PSNR / SSIM on {args.limit or 10000} Fashion-MNIST test images\n")
    print(table(results))
    print("\n" + "\n".join(quality_bar(results)))
    if not args.no_card and not args.limit:
        for label, test_metrics in per_model.items():
            update_card(card_path(MODELS[label]), test_metrics=test_metrics)
        print("\nmetrics written to the model cards in weights/")
