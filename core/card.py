"""Model cards: the JSON file beside each shipped model (provenance, checksums, metrics)."""
from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LIBRARIES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "scikit-image", "pillow")


class WeightsError(RuntimeError):
    """A shipped model file or its card is missing, damaged or refused; the message names the file."""


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def environment() -> dict:
    """Machine and library versions, recorded with every training run."""
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = version(lib)
        except PackageNotFoundError:
            pass
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "libraries": versions,
    }


def read_card(path: str | Path) -> dict:
    """The card as a dict; empty when it does not exist yet; WeightsError when it is not a JSON object."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        card = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise WeightsError(f"model card {path.name} cannot be read ({type(e).__name__}: {str(e)[:80]}); "
                           "re-download or retrain the model") from None
    if not isinstance(card, dict):
        raise WeightsError(f"model card {path.name} holds a {type(card).__name__}, not a card; "
                           "re-download or retrain the model")
    return card


def write_card(path: str | Path, card: dict) -> None:
    """Write a card, stamping the time it was written."""
    card = {**card, "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    Path(path).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")


def update_card(path: str | Path, **fields) -> dict:
    """Merge ``fields`` into an existing card and write it back."""
    card = read_card(path) | fields
    write_card(path, card)
    return card
