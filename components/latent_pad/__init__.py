"""Latent pad: a Plotly scatter of the 2-D embedding with a draggable point and the decoded item beside it.

Bidirectional Streamlit component (components v1, static frontend, no build step). While the point is
dragged the frontend sends ``{"x", "y", "seq", "view", "picked", "has_data", "decodes"}`` at most once per
animation frame and only one at a time; the page answers with ``image_seq`` and, unless the pad decodes by
itself, the decoded image in ``image``. The embedding (~120 kB) travels only while the pad lacks it
(``has_data`` != ``data_key``), so a drag round trip carries about 1 kB.

The pad decodes in the browser when it can: the page passes ``decoder_url``, where the shipped decoder's browser
export (``weights/vae_decoder_browser/``, made at training time) is served from; ``decoder.js`` runs it (tests
check it equals the Keras decoder), so a drag repaints without waiting for the server. Until it loads, or if it
cannot, the server's ``image`` is shown. Plotly.js is served from the installed plotly package, so it works
offline. Nothing is copied or written: each folder is served where it lies, as a components-v1 path.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import plotly
import streamlit.components.v1 as components

from core.config import BROWSER_DECODER_STEM

FRONTEND = Path(__file__).parent / "frontend"
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"  # holds plotly.min.js

_component = components.declare_component("latent_pad", path=str(FRONTEND))
# Never rendered, only served: index.html loads ../components.latent_pad.plotly_js/plotly.min.js.
PLOTLY_JS = components.declare_component("plotly_js", path=str(PLOTLY_DIR))


def decoder_url(folder: Path, version: str) -> str:
    """Serve a browser export's folder (``core.latent.export_browser_decoder``) to the pad, in place; returns
    the URL to pass as ``decoder``, relative to the pad's page. ``version`` (from the files' checksums) keeps
    a browser from using a cached copy of other weights."""
    served = components.declare_component("decoder_files", path=str(folder))
    return f"../{served.name}/{BROWSER_DECODER_STEM}?v={version}"


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
    already; ``image``: b64 uint8 (28, 28), or "" when the pad decodes by itself; ``decoder``: a URL from
    ``decoder_url`` ("" to decode on the server only).
    The point jumps to ``point`` only when ``point_version`` changes (never in the middle of a drag).
    """
    return _component(points=points, labels=labels, class_names=list(class_names), data_key=data_key,
                      point=[float(point[0]), float(point[1])], point_version=point_version, image=image,
                      image_seq=image_seq, decoder=decoder, height=height, key=key, default=None)
