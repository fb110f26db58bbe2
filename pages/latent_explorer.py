"""Latent explorer: drag a point over the VAE's 2-D latent space and watch new clothing decode live."""
from pathlib import Path

import numpy as np
import streamlit as st

from components.latent_pad import PadData, decoder_url, latent_pad, read_move
from core import config
from core.card import WeightsError, read_card
from core.config import CLASS_NAMES
from core.data import DataUnavailable, load_test_set, to_float
from core.render import enlarge, mosaic, png_bytes
from core.serving.vae import (LatentDecoder, LatentError, fast_decoder, grid_points, grid_rows, interpolate,
                              load_embedding, prior_samples)
from pages import use_app_navigation

Z_LIMIT = 8.0  # number inputs accept |z| up to this; the prior puts 99.99 % of its mass within ±4
DEFAULT_VIEW = (-3.0, 3.0, -3.0, 3.0)
SCALE = 10  # on-screen and PNG enlargement of one 28×28 item


@st.cache_resource(show_spinner="Loading the VAE decoder and the embedding…")
def load_explorer(decoder_path: str, embedding_path: str, encoder_card: str):
    """The fast decoder, the test-set embedding, what the pad draws (embedding, browser decoder's URL), whether
    the two disagree, and why the pad decodes on the server (None when the browser decodes)."""
    decoder, version, server_only = fast_decoder(Path(decoder_path))
    url = decoder_url(Path(decoder_path).with_name(config.VAE_BROWSER_DECODER_DIR.name), version) if version else ""
    embedding = load_embedding(embedding_path)
    decoder.one(0.0, 0.0)  # warm up now, not on the first drag
    stale = read_card(encoder_card).get("sha256") not in (None, embedding.encoder_sha256)
    return decoder, embedding, PadData.of(embedding.z_mean, embedding.labels, url), stale, server_only


@st.cache_resource(show_spinner=False)
def test_items() -> np.ndarray | None:
    """The real test items (uint8, shipped with the app), for the ends of an interpolation; None when
    unreadable."""
    try:
        return load_test_set().images
    except DataUnavailable:
        return None


def state_defaults() -> None:
    for key, value in {"latent_z1": 0.0, "latent_z2": 0.0, "latent_view": DEFAULT_VIEW,
                       "latent_picked": None}.items():
        st.session_state.setdefault(key, value)


def clamp(v: float) -> float:
    return round(float(np.clip(v, -Z_LIMIT, Z_LIMIT)), 3)


def random_point() -> None:
    z = prior_samples(1)[0]
    st.session_state.latent_z1, st.session_state.latent_z2 = clamp(z[0]), clamp(z[1])


@st.fragment
def explorer(decoder: LatentDecoder, pad: PadData, n_items: int) -> None:
    """The pad and its mirrors; reruns alone on every drag message, so a round trip stays short."""
    move = read_move("latent_pad", n_items)
    if move:  # dragged, clicked or zoomed: the z inputs follow before they are drawn
        st.session_state.latent_z1, st.session_state.latent_z2 = (clamp(v) for v in move.z)
        if move.view:
            st.session_state.latent_view = move.view
        if move.picked is not None:
            st.session_state.latent_picked = move.picked
    z = (st.session_state.latent_z1, st.session_state.latent_z2)
    try:
        latent_pad(pad, point=z, decode=decoder.one, class_names=CLASS_NAMES, key="latent_pad")
    except LatentError as e:
        st.error(f"Could not decode z = {z}: {e}")
        return

    c1, c2, c3, c4 = st.columns([2, 2, 3, 3], vertical_alignment="bottom")
    c1.number_input("z₁", -Z_LIMIT, Z_LIMIT, step=0.05, format="%.3f", key="latent_z1",
                    help="Horizontal latent coordinate; mirrors the dragged point")
    c2.number_input("z₂", -Z_LIMIT, Z_LIMIT, step=0.05, format="%.3f", key="latent_z2",
                    help="Vertical latent coordinate; mirrors the dragged point")
    c3.button("🎲 Random sample from the prior", on_click=random_point, help="z drawn from N(0, I)")
    # Deferred: the PNG is made only when clicked, not on every drag step.
    c4.download_button("⬇️ Download this item (PNG)", lambda: png_bytes(enlarge(decoder.one(*z), SCALE)),
                       on_click="ignore", file_name=f"vae_item_z1_{z[0]:+.3f}_z2_{z[1]:+.3f}.png", mime="image/png")


@st.fragment
def manifold(decoder: LatentDecoder) -> None:
    """The seed's figure: items decoded on an N×N grid over the pad's current view."""
    st.subheader("Manifold grid")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    n = c1.select_slider("Grid size N (N×N items)", options=list(range(3, 31)), value=12)
    c2.button("↻ Use the pad's current view", help="Zoom or pan the scatter, then press this")
    x0, x1, y0, y1 = st.session_state.latent_view
    st.caption(f"View: z₁ from {x0:.2f} to {x1:.2f}, z₂ from {y0:.2f} to {y1:.2f} (top row = highest z₂).")
    try:
        images = decoder(grid_points((x0, x1), (y0, y1), n))
    except LatentError as e:
        st.error(f"Cannot draw the grid: {e}. Reset the scatter's view (double-click it).")
        return
    grid = mosaic(grid_rows(images, n), gap=0)
    scale = max(1, 720 // grid.shape[1])
    picture = enlarge(grid, scale)
    st.image(picture, width=picture.width, output_format="PNG")
    st.download_button("⬇️ Download the grid (PNG)", png_bytes(picture), on_click="ignore",
                       file_name=f"vae_manifold_{n}x{n}.png", mime="image/png")


def use_clicked(embedding, key: str) -> None:
    """Point a class + item picker at the item last clicked on the scatter (a button callback)."""
    picked = st.session_state.latent_picked
    cls = int(embedding.labels[picked])
    st.session_state[f"{key}_cls"] = cls
    st.session_state[f"{key}_idx"] = int(np.flatnonzero(embedding.class_indices(cls) == picked)[0])


def pick_item(label: str, embedding, default_class: int, key: str) -> int:
    """Class + item-number pickers, or the item last clicked on the scatter; returns a test-set index."""
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
    cls = c1.selectbox(f"{label}: class", range(len(CLASS_NAMES)), index=default_class,
                       format_func=lambda i: CLASS_NAMES[i], key=f"{key}_cls")
    members = embedding.class_indices(cls)
    if len(members) == 0:
        c2.error(f"The embedding holds no {CLASS_NAMES[cls]} items; choose another class.")
        return -1
    idx = c2.number_input(f"{label}: item", 0, len(members) - 1, key=f"{key}_idx",
                          help=f"Which {CLASS_NAMES[cls]} of the test set (0–{len(members) - 1})")
    c3.button("Use the clicked item", key=f"{key}_use", disabled=st.session_state.latent_picked is None,
              on_click=use_clicked, args=(embedding, key), help="Click a dot on the scatter first")
    return int(members[min(idx, len(members) - 1)])


@st.fragment
def interpolation(decoder: LatentDecoder, embedding) -> None:
    """Decode the straight line between two test items' μ as a strip."""
    st.subheader("Interpolate between two items")
    a = pick_item("From", embedding, 7, "latent_a")  # sneaker
    b = pick_item("To", embedding, 9, "latent_b")  # ankle boot
    if a < 0 or b < 0:
        return
    steps = st.slider("Steps", 3, 16, 10)
    strip = decoder(interpolate(embedding.z_mean[a], embedding.z_mean[b], steps))
    caption = (f"{CLASS_NAMES[embedding.labels[a]]} #{a} → {CLASS_NAMES[embedding.labels[b]]} #{b} "
               "(test-set indices), decoded from μ")
    items = test_items()
    if items is not None and len(items) == len(embedding.labels):  # the real items at both ends
        strip = np.concatenate([to_float(items[[a]])[..., 0], strip, to_float(items[[b]])[..., 0]])
        caption += "; first and last: the real test items"
    row = mosaic([strip], gap=2)
    picture = enlarge(row, max(1, min(6, 720 // row.shape[1])))
    st.image(picture, width=picture.width, output_format="PNG", caption=caption)
    st.download_button("⬇️ Download the strip (PNG)", png_bytes(picture), on_click="ignore",
                       file_name=f"vae_interpolation_{a}_{b}.png", mime="image/png")


use_app_navigation()  # a deep link opened first on a fresh server: see pages/__init__.py
st.title("Latent explorer")
st.write("Every dot is one clothing item of the test set, placed where the VAE's encoder puts it in its "
         "2-D latent space. **Drag the ringed point**: the decoder draws the item that lives there, live. "
         "Colours are classes; click a class in the legend to hide or show it.")
try:
    decoder, embedding, pad, stale, server_only = load_explorer(str(config.weight_path(config.VAE_DECODER)),
                                                                str(config.VAE_EMBEDDING_PATH),
                                                                str(config.card_path(config.VAE_ENCODER)))
except (WeightsError, LatentError) as e:
    st.error(f"The latent explorer needs the trained VAE. {e}")
    st.info("Train it (about 15 minutes on two CPU cores): `python -m core.train vae`, "
            "then evaluate it: `python -m core.evaluate vae`.")
    st.stop()
if server_only:
    st.info(f"Dragging waits for the server, because the decoder's browser files are unusable: {server_only}")
if stale:
    st.warning("The embedding was made by a different encoder than the shipped one, so dots may sit in the "
               "wrong places. Retrain with `python -m core.train vae` to make both together.")

state_defaults()
explorer(decoder, pad, len(embedding.labels))
manifold(decoder)
interpolation(decoder, embedding)
