"""Latent pad: a scatter of the 2-D embedding with a draggable point and the decoded item beside it.

Plotly draws the axes, legend, zoom and pan; the 10,000 dots are drawn on a canvas that follows Plotly's
ranges (as SVG elements they took most of the first visit), and hover and click find the nearest dot.

Bidirectional Streamlit component (components v1, static frontend, no build step). This module owns its wire
protocol; a page only calls ``read_move`` (what the user did) before drawing its inputs and ``latent_pad``
(draw the pad at a point) after.

The protocol: while the point is dragged the frontend sends ``{"x", "y", "seq", "view", "picked", "has_data",
"decodes"}`` at most once per animation frame and only one at a time; the pad is answered with ``image_seq``
(the last ``seq`` read) and, unless it decodes by itself (``decodes == "browser"``), the decoded image in
``image``. The embedding (~120 kB) travels only while the pad lacks it (``has_data`` != ``data_key``), so a drag
round trip carries about 1 kB. The point jumps to the page's point only when ``point_version`` changes (a typed
or sampled point), never in the middle of a drag. ``ring`` (a point, or null) is drawn as a fixed ring that is
not dragged: where the designer's own garment lies.

The pad decodes in the browser when it can: ``PadData.decoder`` is the URL (``decoder_url``) where the shipped
decoder's browser export (``weights/vae_renderer_browser/``, made at training time) is served from;
``decoder.js`` runs it (tests check it equals the Keras decoder), so a drag repaints without waiting for the
server. Until it loads, or if it cannot, the server's ``image`` is shown. Plotly.js is the official basic
bundle (scatter, bar, pie; 1.2 MB against 4.8 MB for the full one), vendored in ``frontend/vendor/`` (version
and checksum in its README), so the pad works offline. Nothing is copied or written: each folder is served
where it lies, as a components-v1 path.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from core.config import BROWSER_DECODER_STEM
from core.render import to_uint8

FRONTEND = Path(__file__).parent / "frontend"

_component = components.declare_component("latent_pad", path=str(FRONTEND))


def decoder_url(folder: Path, version: str) -> str:
    """Serve a browser export's folder (``core.serving.vae.export_browser_decoder``) to the pad, in place;
    returns the URL for ``PadData.decoder``, relative to the pad's page. ``version`` (from the files'
    checksums) keeps a browser from using a cached copy of other weights."""
    served = components.declare_component("decoder_files", path=str(folder))
    return f"../{served.name}/{BROWSER_DECODER_STEM}?v={version}"


def b64(array: np.ndarray) -> str:
    """Little-endian raw bytes of an array as base64 (how the frontend receives arrays)."""
    return base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()


@dataclass(frozen=True)
class PadData:
    """What every pad of a server draws: the embedding as the frontend reads it (b64 float32 (N, 2) points and
    uint8 (N,) labels), a key naming it, and the browser decoder's URL ("" to decode on the server only)."""

    points: str
    labels: str
    data_key: str
    decoder: str = ""

    @classmethod
    def of(cls, z_mean: np.ndarray, labels: np.ndarray, decoder: str = "") -> PadData:
        z_mean = np.asarray(z_mean, np.float32)
        return cls(b64(z_mean), b64(np.asarray(labels, np.uint8)), hashlib.sha256(z_mean.tobytes()).hexdigest()[:16],
                   decoder)


@dataclass(frozen=True)
class PadMove:
    """What the user did on the pad: the point (rounded to 3 decimals by the pad), the scatter's view
    (x0, x1, y0, y1) when known, and the test item clicked (None for a drag, a key or a zoom)."""

    z: tuple[float, float]
    view: tuple[float, float, float, float] | None = None
    picked: int | None = None


def _state(key: str) -> dict:
    """The pad's own session state: the last message read (``seq``) and the point it shows (``point``,
    ``version``)."""
    return st.session_state.setdefault(f"_{key}_protocol", {"seq": 0, "point": None, "version": 0})


def read_move(key: str, n_items: int) -> PadMove | None:
    """The pad's newest message as a move, once (None when there is nothing new). Call it before drawing the
    widgets it moves. A message it cannot read is dropped with a warning; a ``picked`` that is no item index
    is left out."""
    message, state = st.session_state.get(key), _state(key)
    if not isinstance(message, dict) or message.get("seq") == state["seq"]:
        return None
    try:
        z = (float(message["x"]), float(message["y"]))
        seq = int(message["seq"])
        if not np.all(np.isfinite(z)):
            raise ValueError(z)
    except (KeyError, TypeError, ValueError):
        st.warning("The latent pad sent a message this page does not understand; it was ignored.")
        return None
    state["seq"], state["point"] = seq, z  # the pad shows this point already
    view = message.get("view")
    if not (isinstance(view, list) and len(view) == 4 and all(isinstance(v, (int, float)) for v in view)):
        view = None
    picked = message.get("picked")
    if not (isinstance(picked, int) and not isinstance(picked, bool) and 0 <= picked < n_items):
        picked = None
    return PadMove(z, tuple(float(v) for v in view) if view else None, picked)


def latent_pad(data: PadData, *, point: tuple[float, float], decode: Callable[[float, float], np.ndarray],
               class_names: list[str], key: str, ring: tuple[float, float] | None = None, height: int = 470) -> None:
    """Draw the pad with its point at ``point`` (moved there when it is not where the pad last showed it) and,
    when given, a fixed ring at ``ring`` (the designer's garment; it stays while the point is dragged away).
    ``decode(z1, z2)`` -> (28, 28) probabilities is called only while the pad cannot decode by itself."""
    message, state = st.session_state.get(key), _state(key)
    point = (float(point[0]), float(point[1]))
    if point != state["point"]:  # typed or sampled: the pad's point jumps
        state["point"] = point
        state["version"] += 1
    has_data = isinstance(message, dict) and message.get("has_data") == data.data_key
    decodes_itself = isinstance(message, dict) and message.get("decodes") == "browser" and bool(data.decoder)
    _component(points="" if has_data else data.points, labels="" if has_data else data.labels,
               class_names=list(class_names), data_key=data.data_key, point=list(point),
               point_version=state["version"], image="" if decodes_itself else b64(to_uint8(decode(*point))),
               image_seq=state["seq"], decoder=data.decoder, ring=list(ring) if ring else None, height=height, key=key,
               default=None)
