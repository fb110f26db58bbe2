"""The home page's examples, computed from the shipped weights: ``python -m core.examples``.

A noisy Fashion-MNIST test item with the denoiser's restoration (what the Denoise page shows first) and a
stained crop of a sample page with the document cleaner's result (the first of "Try sample pages"). They
are written to ``weights/examples.npz`` with a card naming the weights they came from, so the home page
shows them without loading TensorFlow. Run this again after training either model; until then the home
page computes that model's example itself (slower, same result).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.card import WeightsError, read_card, sha256, write_card
from core.config import CLASS_NAMES, EXAMPLES_PATH, card_path
from core.render import to_uint8

MODELS = ("denoiser", "documents")
DENOISE_CLASS, DENOISE_INDEX, NOISE_SEED = 0, 0, 0  # the Denoise page's first item and noise seed
DENOISE_NOISE = "s&p"  # the Denoise page's default noise kind, at its default amount
CROP = (240, 360)  # (height, width) of the document crop
INK = 0.03  # a crop shows text: at least this share of the clean page's pixels is ink


def denoise_example(model, images: np.ndarray, labels: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """The Denoise page's first view: clean, noisy and restored item (uint8 28×28) and their PSNR."""
    from core.noise import NOISE_KINDS
    from core.serving.denoiser import MODEL, NOISY, compare

    index = int(np.flatnonzero(labels == DENOISE_CLASS)[DENOISE_INDEX])
    amount = NOISE_KINDS[DENOISE_NOISE].default
    result = compare(images[index], DENOISE_NOISE, amount, NOISE_SEED, model)
    pictures = {"clean": result.clean[0], "noisy": result.images[NOISY][0], "restored": result.images[MODEL][0]}
    numbers = {"item": f"{CLASS_NAMES[DENOISE_CLASS]} #{DENOISE_INDEX}", "test_index": index,
               "noise": {"kind": DENOISE_NOISE, "amount": amount, "seed": NOISE_SEED},
               "psnr_db": {"noisy": round(float(result.psnr[NOISY][0]), 2),
                           "restored": round(float(result.psnr[MODEL][0]), 2)}}
    return {k: to_uint8(v) for k, v in pictures.items()}, numbers


def stained_crop(clean: np.ndarray, noisy: np.ndarray, size: tuple[int, int] = CROP, step: int = 20) -> tuple[int, int]:
    """Top-left corner of the window with the most damaged text: the share of ink on the clean page times the
    mean difference between scan and clean page, over windows that show text."""
    h, w = size
    best, corner = -1.0, (0, 0)
    ink = (clean < 128).astype(np.float32)
    damage = np.abs(noisy.astype(np.float32) - clean.astype(np.float32))
    for y in range(0, clean.shape[0] - h + 1, step):
        for x in range(0, clean.shape[1] - w + 1, step):
            share = ink[y : y + h, x : x + w].mean()
            score = share * damage[y : y + h, x : x + w].mean()
            if share >= INK and score > best:
                best, corner = float(score), (y, x)
    return corner


def document_example(model) -> tuple[dict[str, np.ndarray], dict]:
    """A stained crop of the first sample page, as scanned and as cleaned (uint8), and their RMSE."""
    from core.documents.pairs import sample_pages
    from core.serving.documents import clean_both

    pair = sample_pages(1)[0]
    cleaned = to_uint8(clean_both(model, pair.noisy.astype(np.float32) / 255.0)[0])
    y, x = stained_crop(pair.clean, pair.noisy)
    window = np.s_[y : y + CROP[0], x : x + CROP[1]]

    def rmse(image: np.ndarray) -> float:
        return round(float(np.sqrt(np.mean((image[window] / 255.0 - pair.clean[window] / 255.0) ** 2))), 4)

    numbers = {"page": "sample page 1 (core.documents.pairs.sample_pages)", "crop_yx_hw": [y, x, *CROP],
               "rmse": {"scan": rmse(pair.noisy), "cleaned": rmse(cleaned)}}
    return {"scan": pair.noisy[window], "cleaned": cleaned[window]}, numbers


def compute(name: str) -> tuple[dict[str, np.ndarray], dict]:
    """One model's example from its shipped weights (loads TensorFlow); WeightsError or DataUnavailable when
    the weights or the test items cannot be read."""
    from core.data import load_test_set, to_float
    from core.inference import load_model

    model = load_model(name)
    if name == "denoiser":
        data = load_test_set()
        return denoise_example(model, to_float(data.images), data.labels)
    return document_example(model)


def shipped(name: str, path: Path | None = None) -> tuple[dict[str, np.ndarray], dict] | None:
    """One model's example as shipped, or None when the file is missing, damaged, or was made from other
    weights than the model's card names now."""
    path = Path(path or EXAMPLES_PATH)
    try:
        card = read_card(path.with_suffix(".json"))
        current = read_card(card_path(name)).get("sha256")
    except WeightsError:
        return None
    if not path.is_file() or card.get("sha256") != sha256(path) or card.get("made_from", {}).get(name) != current:
        return None
    with np.load(path, allow_pickle=False) as f:
        pictures = {key.split("/", 1)[1]: f[key] for key in f.files if key.startswith(f"{name}/")}
    return pictures, card[name]


def write(path: Path | None = None) -> dict:
    """Compute every model's example from the shipped weights; write the .npz and its card."""
    path = Path(path or EXAMPLES_PATH)
    arrays, card = {}, {"task": "the home page's examples (python -m core.examples)", "made_from": {}}
    for name in MODELS:
        pictures, numbers = compute(name)
        arrays |= {f"{name}/{key}": value for key, value in pictures.items()}
        card[name] = numbers
        card["made_from"][name] = read_card(card_path(name))["sha256"]
    np.savez_compressed(path, **arrays)
    write_card(path.with_suffix(".json"), {"file": path.name, "sha256": sha256(path), **card})
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.examples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help=f"file to write (default: {EXAMPLES_PATH})")
    card = write(parser.parse_args(argv).out)
    d, p = card["denoiser"]["psnr_db"], card["documents"]["rmse"]
    print(f"denoiser: {card['denoiser']['item']} {d['noisy']} -> {d['restored']} dB; "
          f"documents: crop RMSE {p['scan']} -> {p['cleaned']}")


if __name__ == "__main__":
    main()
