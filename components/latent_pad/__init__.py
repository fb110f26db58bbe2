"""Latent pad: a Plotly scatter of the 2-D embedding with a draggable point and the decoded item beside it.

Bidirectional Streamlit component (components v1, static frontend, no build step). While the point is
dragged the frontend sends ``{"x", "y", "seq", "view", "picked", "has_data", "decodes"}`` at most once per
animation frame and only one at a time; the page answers with ``image_seq`` and, unless the pad decodes by
itself, the decoded image in ``image``. The embedding (~120 kB) travels only while the pad lacks it
(``has_data`` != ``data_key``), so a drag round trip carries about 1 kB.

The pad decodes in the browser when it can: ``install_decoder`` writes the shipped decoder's weights next
to the frontend (``decoder.js`` runs them; tests check it equals the Keras decoder), so a drag repaints
without waiting for the server. Until they load, or if they cannot, the server's ``image`` is shown.
Plotly.js comes from the installed plotly package, so it works offline.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import plotly
import streamlit.components.v1 as components

FRONTEND = Path(__file__).parent / "frontend"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _install_plotly_js() -> None:
    """Copy the pip-installed plotly.min.js next to index.html (once per plotly version)."""
    target = FRONTEND / "plotly.min.js"
    if not PLOTLY_JS.is_file():
        raise RuntimeError(f"{PLOTLY_JS} is missing: reinstall the plotly package (requirements.txt)")
    if not target.is_file() or target.stat().st_size != PLOTLY_JS.stat().st_size:
        shutil.copyfile(PLOTLY_JS, target)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` via a temporary file and a rename, so a browser never fetches half a file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as f:
        f.write(data)
    os.replace(f.name, path)


def install_decoder(spec: dict, weights: bytes) -> str:
    """Serve a decoder (``core.latent.browser_decoder``) to the pad; returns the name to pass as ``decoder``.

    Files are named by their content's hash, so a retrained decoder never meets a browser's cached copy."""
    name = "decoder-" + hashlib.sha256(json.dumps(spec, sort_keys=True).encode() + weights).hexdigest()[:16]
    for suffix, data in ((".json", json.dumps(spec).encode()), (".bin", weights)):
        target = FRONTEND / (name + suffix)
        if not target.is_file() or target.stat().st_size != len(data):
            _write_atomically(target, data)
    return name


_install_plotly_js()
_component = components.declare_component("latent_pad", path=str(FRONTEND))


def b64(array: np.ndarray) -> str:
    """Little-endian raw bytes of an array as base64 (how the frontend receives arrays)."""
    return base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()


def latent_pad(
    *,
    points: str,
    labels: str,
    class_names: list[str],
    data_key: str,
    point: tuple[float, float],
    point_version: int,
    image: str,
    image_seq: int,
    decoder: str = "",
    height: int = 470,
    key: str,
) -> dict | None:
    """Render the pad; return its last message (None before the first drag or click).

    ``points``: b64 float32 (N, 2) and ``labels``: b64 uint8 (N,), or both "" when the pad has ``data_key``
    already; ``image``: b64 uint8 (28, 28), or "" when the pad decodes by itself; ``decoder``: a name from
    ``install_decoder`` ("" to decode on the server only).
    The point jumps to ``point`` only when ``point_version`` changes (never in the middle of a drag).
    """
    return _component(points=points, labels=labels, class_names=list(class_names), data_key=data_key,
                      point=[float(point[0]), float(point[1])], point_version=point_version, image=image,
                      image_seq=image_seq, decoder=decoder, height=height, key=key, default=None)
