"""Loading shipped models (checksum-verified, safe_mode on) and running them on arrays."""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

import core.models  # noqa: F401  (registers custom layers before any load)
from core.card import WeightsError, read_card, sha256
from core.config import model_exists, weight_path

__all__ = ["WeightsError", "load_model", "model_exists", "run_batched"]


def load_model(name: str, path: str | Path | None = None, verify: bool = True) -> keras.Model:
    """Load ``weights/<name>.keras`` with safe_mode on, checking its SHA-256 against the card.

    Every failure (missing, unreadable card, checksum, a layer safe_mode refuses, a damaged archive) is
    a one-line WeightsError naming the file."""
    path = Path(path) if path else weight_path(name)
    if not path.is_file():
        raise WeightsError(f"model file {path} is missing: train it with `python -m core.train {name}`")
    if verify:
        expected = read_card(path.with_suffix(".json")).get("sha256")
        actual = sha256(path)
        if expected != actual:
            raise WeightsError(
                f"{path.name} does not match its model card ({path.with_suffix('.json').name}): "
                f"expected SHA-256 {expected}, file has {actual}. Re-download or retrain the model."
            )
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # Keras raises many types (ValueError for safe_mode, TypeError, zip errors, ...)
        reason = " ".join(str(e).split()).split(". ")[0][:200]  # one line: Keras's messages span several
        raise WeightsError(f"{path.name} could not be loaded with safe_mode on ({type(e).__name__}: {reason}). "
                           "Re-download or retrain the model.") from None


def run_batched(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray | tuple[np.ndarray, ...]:
    """Apply ``model`` to ``x`` by direct calls (no ``predict`` overhead), in bounded batches; a model with
    several outputs gives a tuple of arrays, one per output."""
    x = np.asarray(x, dtype=np.float32)
    outs = [model(x[i : i + batch_size], training=False) for i in range(0, len(x), batch_size)]
    if outs and isinstance(outs[0], (list, tuple)):
        return tuple(np.concatenate([np.asarray(o[k]) for o in outs]) for k in range(len(outs[0])))
    return np.concatenate([np.asarray(o) for o in outs]) if outs else np.zeros_like(x)
