"""Own-garment preparation: how often the project's classifier recognises a product shot once prepared.

Run: python bench/garment.py [--per-class 50]. Prints a Markdown table (share of shots recognised as their
class). Shots are made from real Fashion-MNIST test items (tests/test_garment.py: the item enlarged 12×,
dark on a plain background, JPEG-compressed) under six conditions, and brought back to 28 × 28 three ways: a
plain resize of the whole photo and inversion, the older trim-and-centre (core.imageio.to_fashion_item), and
core.serving.vae.prepare_garment. The judge is the project's classifier (weights/fashion_classifier.keras,
trained on the training set only). Real product photos are harder than these; this measures the recipe, not
the photographer.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from core.config import FASHION_CLASSIFIER  # noqa: E402
from core.data import load_test_set  # noqa: E402
from core.imageio import to_fashion_item, to_grayscale  # noqa: E402
from core.serving.vae import prepare_garment  # noqa: E402
from tests.test_garment import product_shot  # noqa: E402


def hung(item: np.ndarray) -> Image.Image:
    """On a white background, hanging from a wire hook above its top edge."""
    shot = product_shot(item, at=(150, 120), canvas=(640, 520), jpeg=None)
    draw = ImageDraw.Draw(shot)
    draw.line((318, 40, 318, 121), fill=30, width=4)
    draw.arc((300, 20, 336, 60), 180, 360, fill=30, width=4)
    return shot


def cut_out(item: np.ndarray) -> Image.Image:
    """A cut-out: the garment's pixels opaque on full transparency, as shops export them."""
    shot = product_shot(item, at=(0, 0), canvas=(336, 336), jpeg=None).convert("RGBA")
    alpha = Image.fromarray(np.where(item > 0, 255, 0).astype(np.uint8)).resize((336, 336))
    shot.putalpha(alpha)
    return shot


CONDITIONS = {
    "white, centred": lambda item: product_shot(item, at=(182, 82)),
    "white, off-centre on a wide canvas": lambda item: product_shot(item, canvas=(1000, 600), at=(40, 230)),
    "light gray, noisy": lambda item: product_shot(item, background=225, noise=0.02, jpeg=75),
    "mid gray": lambda item: product_shot(item, background=140),
    "on a hanger": hung,
    "cut-out on transparency": cut_out,
}
METHODS = {
    "resize + invert": lambda photo: 1 - np.asarray(to_grayscale(photo).resize((28, 28), Image.Resampling.LANCZOS),
                                                    np.float32) / 255,
    "trim + centre (to_fashion_item)": lambda photo: to_fashion_item(to_grayscale(photo)),
    "prepare_garment": prepare_garment,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-class", type=int, default=50, help="test items per class")
    args = parser.parse_args()
    from core.inference import load_model

    judge = load_model(FASHION_CLASSIFIER)
    test = load_test_set()
    images = test.images.reshape(-1, 28, 28)
    picks = np.concatenate([np.flatnonzero(test.labels == c)[: args.per_class] for c in range(10)])
    print(f"| condition ({len(picks)} shots) | " + " | ".join(METHODS) + " |")
    print("|---|" + "---|" * len(METHODS))
    totals = {m: [] for m in METHODS}
    for name, make in CONDITIONS.items():
        photos = [make(images[i]) for i in picks]
        row = []
        for method, prepare in METHODS.items():
            x = np.stack([prepare(p) for p in photos])[..., None].astype(np.float32)
            right = np.asarray(judge(x, training=False)).argmax(axis=1) == test.labels[picks]
            totals[method].append(right.mean())
            row.append(f"{100 * right.mean():.1f} %")
        print(f"| {name} | " + " | ".join(row) + " |")
    print("| **mean** | " + " | ".join(f"**{100 * np.mean(v):.1f} %**" for v in totals.values()) + " |")
    real = np.asarray(judge(images[picks][..., None] / 255.0, training=False)).argmax(axis=1) == test.labels[picks]
    print(f"\nThe same test items as they are: {100 * real.mean():.1f} % (the judge's ceiling here).")


if __name__ == "__main__":
    main()
