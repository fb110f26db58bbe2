"""Latent pad: a Plotly scatter of the 2-D embedding with a draggable point and the decoded item beside it.

Bidirectional Streamlit component (components v1, static frontend, no build step). While the point is
dragged the frontend sends ``{"x", "y", "seq", "view", "picked", "has_data"}`` at most once per animation
frame and only one at a time; the page answers by passing the decoded image back in ``image`` with
``image_seq``. The embedding (~120 kB) travels only while the pad lacks it (``has_data`` != ``data_key``),
so a drag round trip carries about 1 kB.
Plotly.js comes from the installed plotly package, so it works offline.
"""
from __future__ import annotations

import base64
import shutil
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
    height: int = 470,
    key: str,
) -> dict | None:
    """Render the pad; return its last message (None before the first drag or click).

    ``points``: b64 float32 (N, 2) and ``labels``: b64 uint8 (N,), or both "" when the pad has ``data_key``
    already; ``image``: b64 uint8 (28, 28).
    The point jumps to ``point`` only when ``point_version`` changes (never in the middle of a drag).
    """
    return _component(points=points, labels=labels, class_names=list(class_names), data_key=data_key,
                      point=[float(point[0]), float(point[1])], point_version=point_version, image=image,
                      image_seq=image_seq, height=height, key=key, default=None)
