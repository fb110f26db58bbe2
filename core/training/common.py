"""Pieces every training run shares: timing, saving the model with its card."""
from __future__ import annotations

import time
from pathlib import Path

import keras

from core.card import environment, sha256, write_card


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
