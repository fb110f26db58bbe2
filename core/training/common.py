"""Pieces every training run shares: timing, saving the model with its card."""
from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from core.card import environment, sha256, write_card


VALIDATION_SIZE = 6000  # Fashion-MNIST training images held out for early stopping


def train_validation_split(x: np.ndarray, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The last 6,000 images (a tenth of a small folder) for validation; ``limit`` cuts both for smoke runs."""
    n_val = min(VALIDATION_SIZE, len(x) // 10)
    x_train, x_val = x[:-n_val], x[-n_val:]
    if limit:
        x_train, x_val = x_train[:limit], x_val[: max(limit // 5, 32)]
    return x_train, x_val


class Stopwatch:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 1)


def save_with_card(model: keras.Model, path: Path, card: dict) -> dict:
    """Save ``model`` to ``path`` (.keras) and its card beside it, with checksum and environment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    card = {
        "model": path.stem,
        "file": path.name,
        "sha256": sha256(path),
        "architecture": model.name,
        "parameters": int(model.count_params()),
        **card,
        **environment(),
    }
    write_card(path.with_suffix(".json"), card)
    return card


def epochs_run(history: keras.callbacks.History) -> int:
    """How many epochs a fit actually ran (early stopping may end it sooner)."""
    return len(history.history.get("loss", []))
