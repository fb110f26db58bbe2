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
    """The card as a dict; empty when it does not exist yet."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def write_card(path: str | Path, card: dict) -> None:
    """Write a card, stamping the time it was written."""
    card = {**card, "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    Path(path).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")


def update_card(path: str | Path, **fields) -> dict:
    """Merge ``fields`` into an existing card and write it back."""
    card = read_card(path) | fields
    write_card(path, card)
    return card
