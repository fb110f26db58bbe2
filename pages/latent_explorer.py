"""Latent explorer: drag a point over the VAE's 2-D latent space and watch new clothing decode live; start from
your own garment, sample by class, keep a mood board, export for print."""
import sys
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from components.latent_pad import PadData, decoder_url, latent_pad, read_move
from core import config
from core.card import WeightsError, read_card
from core.config import CLASS_NAMES
from core.data import DataUnavailable, load_test_set, to_float
from core.garment import open_garment
from core.imageio import InputError
from core.limits import MAX_PIXELS, MAX_UPLOAD_MB
from core.moodboard import (MAX_ITEMS, Z_LIMIT, BoardError, BoardItem, board_csv, contact_sheet, point_query,
                            read_board_csv, read_contact_sheet, read_point_query)
from core.render import PRINT_METHODS, PRINT_SIZES, enlarge, mosaic, png_bytes, print_size
from core.serving.garment import VARIATION_GRID, GarmentReader, nearest_items, variation_points
from core.serving.vae import (LatentDecoder, LatentError, browser_dir, fast_decoder, grid_points, grid_rows,
                              interpolate, load_embedding, prepare_garment, prior_samples)
from core.serving.vae_prior import FIT_PERCENTILE, LatentPrior, PriorError, load_prior
from pages import use_app_navigation

DEFAULT_VIEW = (-3.0, 3.0, -3.0, 3.0)
SCALE = 10  # on-screen and PNG enlargement of one 28×28 item
NEAREST_SHOWN = 8  # real test items shown beside a garment


@st.cache_resource(show_spinner="Loading the VAE decoder and the embedding…")
def load_explorer(decoder_path: str, embedding_path: str, encoder_card: str):
    """The fast decoder (the renderer), the test-set embedding, what the pad draws (embedding, browser decoder's
    URL), whether the embedding or the renderer was made with another encoder than the shipped one, and why the
    pad decodes on the server (None when the browser decodes)."""
    decoder, version, server_only = fast_decoder(Path(decoder_path))
    url = decoder_url(browser_dir(Path(decoder_path)), version) if version else ""
    embedding = load_embedding(embedding_path)
    decoder.one(0.0, 0.0)  # warm up now, not on the first drag
    encoder_sha256 = read_card(encoder_card).get("sha256")
    drawn_for = (read_card(Path(decoder_path).with_suffix(".json")).get("encoder") or {}).get("sha256")
    stale = encoder_sha256 not in (None, embedding.encoder_sha256) or drawn_for not in (None, encoder_sha256)
    return decoder, embedding, PadData.of(embedding.z_mean, embedding.labels, url), stale, server_only


@st.cache_resource(show_spinner=False)
def load_latent_prior(path: str) -> LatentPrior | str:
    """Where the items lie on the map (core.serving.vae_prior), or why it is unusable."""
    try:
        return load_prior(Path(path))
    except PriorError as e:
        return str(e)


@st.cache_resource(show_spinner="Loading the VAE's encoder (once)…")
def garment_reader(encoder: str, decoder: str, prior_path: str) -> GarmentReader:
    """The Keras encoder and VAE decoder (TensorFlow: not loaded with the page), traced once."""
    from core.inference import load_model

    reader = GarmentReader(load_model(config.VAE_ENCODER, encoder), load_model(config.VAE_DECODER, decoder),
                           load_prior(Path(prior_path)))
    reader(np.zeros(config.IMAGE_SHAPE[:2], np.float32))
    return reader


def shipped_garment_reader() -> GarmentReader:
    return garment_reader(str(config.weight_path(config.VAE_ENCODER)), str(config.weight_path(config.VAE_DECODER)),
                          str(config.VAE_PRIOR_PATH))


@st.cache_resource(show_spinner=False)
def warm_garment_reader() -> threading.Thread:
    """Once per server, when TensorFlow is loaded already (app.py's warm-up): load the encoder in the
    background, so the first upload does not wait the second or so it takes. A failure shows at the upload."""
    def load() -> None:
        try:
            shipped_garment_reader()
        except (WeightsError, PriorError):
            pass

    thread = threading.Thread(target=load, name="garment-reader", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def test_items() -> np.ndarray | None:
    """The real test items (uint8, shipped with the app), for the ends of an interpolation and a garment's
    nearest items; None when unreadable."""
    try:
        return load_test_set().images
    except DataUnavailable:
        return None


def state_defaults() -> None:
    """The session's state; a first visit through a link (``?z1=…&z2=…``) opens at the link's point."""
    if "latent_z1" not in st.session_state:
        try:
            z = read_point_query(st.query_params.to_dict()) or (0.0, 0.0)
        except BoardError as e:
            st.session_state.latent_link_error, z = str(e), (0.0, 0.0)
        st.session_state.latent_z1, st.session_state.latent_z2 = z
    for key, value in {"latent_view": DEFAULT_VIEW, "latent_picked": None, "latent_source": "pad",
                       "latent_board": [], "latent_garment": None}.items():
        st.session_state.setdefault(key, value)


def clamp(v: float) -> float:
    return round(float(np.clip(v, -Z_LIMIT, Z_LIMIT)), 3)


def set_point(z, source: str) -> None:
    """Move the pad's point to z, remembering where it came from (for the mood board)."""
    st.session_state.latent_z1, st.session_state.latent_z2 = clamp(z[0]), clamp(z[1])
    st.session_state.latent_source = source


def class_at(z) -> str:
    """The class of the test item nearest to z: what the map holds there."""
    return CLASS_NAMES[int(embedding.labels[nearest_items(embedding, z, 1)[0]])]


def keep(z, source: str) -> None:
    """Add the item at z to the mood board, then rerun the whole page so the board shows it (from a fragment)."""
    board = st.session_state.latent_board
    if len(board) >= MAX_ITEMS:
        st.toast(f"The board is full ({MAX_ITEMS} items): remove one first.")
        return
    board.append(BoardItem(clamp(z[0]), clamp(z[1]), source, class_at(z)))
    st.toast(f"Kept item {len(board)} on the mood board.")
    st.rerun()


def sample(label: int | None) -> None:
    """Move the point to a random item from where the data lies (of one class when ``label`` is given)."""
    if isinstance(prior, LatentPrior):
        set_point(prior.sample(1, label=label)[0], "random sample" if label is None else f"random {CLASS_NAMES[label]}")
    else:
        set_point(prior_samples(1)[0], "random sample from N(0, I)")


def print_download(label: str, image: np.ndarray, name: str, key: str, where=st) -> None:
    """A deferred download of one item at the chosen print size and resampling."""
    size = st.session_state.get("latent_print_size", PRINT_SIZES[1])
    method = st.session_state.get("latent_print_method", next(iter(PRINT_METHODS)))
    where.download_button(label, lambda: png_bytes(print_size(image, size, method)), on_click="ignore", key=key,
                          file_name=f"{name}_{size}px.png", mime="image/png",
                          help=f"{size} × {size} pixels, resampled: {method}")


@st.fragment
def explorer(decoder: LatentDecoder, pad: PadData, n_items: int) -> None:
    """The pad and its mirrors; reruns alone on every drag message, so a round trip stays short."""
    move = read_move("latent_pad", n_items)
    if move:  # dragged, clicked or zoomed: the z inputs follow before they are drawn
        set_point(move.z, "pad")
        if move.view:
            st.session_state.latent_view = move.view
        if move.picked is not None:
            st.session_state.latent_picked = move.picked
    z = (st.session_state.latent_z1, st.session_state.latent_z2)
    garment = st.session_state.latent_garment
    try:
        latent_pad(pad, point=z, decode=decoder.one, class_names=CLASS_NAMES, key="latent_pad",
                   ring=tuple(clamp(v) for v in garment["fit"].z) if garment else None)
    except LatentError as e:
        st.error(f"Could not decode z = {z}: {e}")
        return
    if st.query_params.get("z1") != point_query(z)["z1"] or st.query_params.get("z2") != point_query(z)["z2"]:
        st.query_params.from_dict(point_query(z))  # the address bar is a link to this point

    c1, c2, c3, c4 = st.columns([2, 2, 3, 3], vertical_alignment="bottom")
    c1.number_input("z₁", -Z_LIMIT, Z_LIMIT, step=0.05, format="%.3f", key="latent_z1", on_change=set_source,
                    help="Horizontal latent coordinate; mirrors the dragged point")
    c2.number_input("z₂", -Z_LIMIT, Z_LIMIT, step=0.05, format="%.3f", key="latent_z2", on_change=set_source,
                    help="Vertical latent coordinate; mirrors the dragged point")
    c3.button("🎲 Random sample (where the data is)", on_click=sample, args=(None,),
              help="A point drawn from a mixture fitted to where the encoder puts the training items, not from "
                   "N(0, I), whose draws often fall between the classes")
    if c4.button("➕ Keep on the mood board", key="keep_pad",
                 help=f"Kept as '{st.session_state.latent_source}' at z = ({z[0]:.3f}, {z[1]:.3f})"):
        keep(z, st.session_state.latent_source)
    item, name = decoder.one(*z), f"vae_item_z1_{z[0]:+.3f}_z2_{z[1]:+.3f}"
    c1, c2 = st.columns(2)
    # Deferred: the PNG is made only when clicked, not on every drag step.
    c1.download_button("⬇️ This item (280 px PNG)", lambda: png_bytes(enlarge(item, SCALE)), on_click="ignore",
                       file_name=f"{name}.png", mime="image/png", help="Crisp 10× pixels")
    print_download("⬇️ This item at print size", item, name, "print_pad", c2)


def sampling_and_print_settings() -> None:
    """Class samples and the print settings: outside the pad's fragment, which stays small for dragging."""
    c1, c2, c3, c4 = st.columns([4, 3, 3, 3], vertical_alignment="bottom")
    chosen = c1.selectbox("Class", range(len(CLASS_NAMES)), format_func=lambda i: CLASS_NAMES[i], index=3,
                          key="latent_class", disabled=isinstance(prior, str))
    c2.button(f"🎲 Random {CLASS_NAMES[chosen].lower()}", on_click=sample, args=(chosen,), key="sample_class",
              disabled=isinstance(prior, str), help="A point drawn from where this class's training items lie")
    c3.selectbox("Print size", PRINT_SIZES, index=PRINT_SIZES.index(1024), format_func=lambda s: f"{s} px",
                 key="latent_print_size")
    c4.selectbox("Resampling", list(PRINT_METHODS), key="latent_print_method",
                 help="Lanczos (a windowed sinc) smooths the 28×28 item up to print size without blocks; "
                      "nearest neighbour keeps the square pixels, for pixel art")
    st.caption("The address bar always links to the point shown (`?z1=…&z2=…`): copy it to come back here.")


def set_source() -> None:
    st.session_state.latent_source = "pad"


def read_garment() -> None:
    """Prepare and encode an uploaded garment; its point becomes the pad's (the uploader's callback)."""
    upload = st.session_state.latent_upload
    st.session_state.latent_garment_error = None
    if upload is None:
        st.session_state.latent_garment = None
        return
    try:
        photo = open_garment(upload.getvalue(), upload.name)
        item = prepare_garment(photo)
    except InputError as e:
        st.session_state.latent_garment, st.session_state.latent_garment_error = None, str(e)
        return
    try:
        reader = shipped_garment_reader()
    except (WeightsError, PriorError) as e:
        st.session_state.latent_garment, st.session_state.latent_garment_error = None, f"Cannot encode it: {e}"
        return
    preview = photo.convert("RGBA") if photo.mode in ("RGBA", "LA", "PA") else photo.convert("RGB")
    preview.thumbnail((280, 280))
    fit = reader(item)
    st.session_state.latent_garment = {"name": upload.name, "preview": preview, "fit": fit}
    set_point(fit.z, "your garment")


def garment_section(decoder: LatentDecoder) -> None:
    """Upload a garment photo: its preparation, reconstruction, fit, variations and nearest real items."""
    st.subheader("Start from your own garment")
    st.file_uploader("A photo of one garment on a plain background (product shots, flat-lays, hangers)",
                     type=["png", "jpg", "jpeg", "webp"], key="latent_upload", on_change=read_garment,
                     help=f"PNG, JPEG or WebP, any size up to {MAX_UPLOAD_MB} MB and {MAX_PIXELS / 1e6:.0f} "
                          "megapixels; it stays in memory and is never stored")
    if st.session_state.get("latent_garment_error"):
        st.error(st.session_state.latent_garment_error)
    garment = st.session_state.latent_garment
    if not garment:
        st.caption("It is prepared the way Fashion-MNIST was made (plain border trimmed, longest side fitted to "
                   "28 pixels, centred, inverted to a dark background, gray), then encoded: its point is ringed "
                   "on the map.")
        return
    fit = garment["fit"]
    c1, c2, c3 = st.columns(3)
    c1.image(garment["preview"], caption=f"Your upload: {garment['name']}", width=200)
    c2.image(enlarge(fit.item, 7), caption="Prepared as a 28×28 item (light on dark)", width=196,
             output_format="PNG")
    c3.image(enlarge(fit.reconstruction, 7), caption=f"Its reconstruction, from z = ({fit.z[0]:.2f}, {fit.z[1]:.2f})",
             width=196, output_format="PNG")
    if fit.poor:
        st.warning(f"This doesn't look like the clothing the model knows: the VAE reconstructs it worse than "
                   f"{fit.percentile:.1f} % of the test items (structural error {fit.error:.3f}, where "
                   f"{FIT_PERCENTILE:.0f} % of them stay under {fit.threshold:.3f}). Its point and variations are "
                   "shown anyway, but expect them to look unlike it. One garment on a plain, even background "
                   "works best.")
    else:
        st.success(f"The model can explain it: its reconstruction error ({fit.error:.3f}, 1 − SSIM) is within the "
                   f"test items' range ({fit.percentile:.0f} % of them are reconstructed better; past "
                   f"{fit.threshold:.3f}, the worst {100 - FIT_PERCENTILE:.0f} %, an upload counts as unlike the "
                   "clothing it knows). Its point is ringed on the map; drag away and come back with "
                   "*Back to my garment*.")
    st.button("◎ Back to my garment", on_click=set_point, args=(fit.z, "your garment"))
    variations(decoder, fit.z)
    nearest_real_items(fit.z)


@st.fragment
def variations(decoder: LatentDecoder, z: tuple[float, float]) -> None:
    """A sheet of items decoded around the garment's point."""
    st.markdown("**Variations**: items decoded around its point (the centre one is its own).")
    spread = st.slider("Spread (latent units from the centre to the sheet's edge)", 0.05, 2.0, 0.4, 0.05,
                       key="latent_spread")
    points = variation_points(z, spread)
    sheet = mosaic(grid_rows(decoder(points), VARIATION_GRID), gap=2)
    st.image(enlarge(sheet, 3), output_format="PNG", caption="Numbered 1–25 in reading order; top row = highest z₂")
    c1, c2, c3 = st.columns([2, 3, 3], vertical_alignment="bottom")
    n = c1.number_input("Variation", 1, VARIATION_GRID**2, VARIATION_GRID**2 // 2 + 1, key="latent_variation")
    if c2.button("➕ Keep this variation", key="keep_variation"):
        keep(points[n - 1], "variation")
    if c3.button("Show it on the pad", key="show_variation", on_click=set_point, args=(points[n - 1], "variation")):
        st.rerun()  # the pad lies outside this fragment


def nearest_real_items(z: tuple[float, float]) -> None:
    """The real test items whose points lie nearest to the garment's."""
    items = test_items()
    if items is None or len(items) != len(embedding.labels):
        return
    nearest = nearest_items(embedding, z, NEAREST_SHOWN)
    st.markdown("**Nearest real items** (test items whose encoder μ lies nearest its point):")
    st.image(enlarge(mosaic([to_float(items[nearest])]), 3), output_format="PNG",
             caption=", ".join(f"{CLASS_NAMES[embedding.labels[i]]} #{i}" for i in nearest))


def reopen_board() -> None:
    """Replace the board with one from an uploaded contact sheet or CSV (the uploader's callback)."""
    upload = st.session_state.latent_board_upload
    st.session_state.latent_board_error = None
    if upload is None:
        return
    try:
        data = upload.getvalue()
        if data.startswith(b"\x89PNG"):
            items = read_contact_sheet(data, upload.name)[0]
        else:
            items = read_board_csv(data.decode("utf-8-sig", errors="replace"), upload.name)
    except BoardError as e:
        st.session_state.latent_board_error = str(e)
        return
    st.session_state.latent_board = items


@st.fragment
def mood_board(decoder: LatentDecoder) -> None:
    """The items kept this session: remove, show on the pad, download the board or any item at print size."""
    board = st.session_state.latent_board
    st.subheader(f"Mood board ({len(board)} kept)")
    if not board:
        st.caption("Nothing kept yet: press ➕ Keep under the pad, a variation or a grid cell.")
    else:
        images = decoder(np.array([[i.z1, i.z2] for i in board], np.float32))
        for start in range(0, len(board), 6):
            for k, col in enumerate(st.columns(6)):
                n = start + k
                if n >= len(board):
                    break
                item = board[n]
                col.image(enlarge(images[n], 4), width=112, output_format="PNG",
                          caption=f"{n + 1} · {item.label or '?'} ({item.source})")
                b1, b2 = col.columns(2)
                b1.button("✕", key=f"board_remove_{n}", help="Remove it from the board", on_click=board.pop,
                          args=(n,))
                if b2.button("◎", key=f"board_show_{n}", help="Show it on the pad", on_click=set_point,
                             args=((item.z1, item.z2), item.source)):
                    st.rerun()  # the pad lies outside this fragment
        c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
        c1.download_button("⬇️ Board as a contact sheet (PNG)", lambda: contact_sheet(board, images),
                           on_click="ignore", file_name="mood_board.png", mime="image/png",
                           help="All items with their numbers and classes; the points ride along inside")
        c2.download_button("⬇️ Board's points (CSV)", board_csv(board), on_click="ignore",
                           file_name="mood_board.csv", mime="text/csv", help="Columns z1, z2, source, label")
        n = c3.number_input("Item", 1, len(board), 1, key="latent_board_item")
        print_download(f"⬇️ Item {n} at print size", images[n - 1], f"mood_board_item_{n}", "print_board", c4)
        st.button("Clear the board", on_click=board.clear)
    st.file_uploader("Reopen a saved board (its PNG or CSV)", type=["png", "csv"], key="latent_board_upload",
                     on_change=reopen_board)
    if st.session_state.get("latent_board_error"):
        st.error(st.session_state.latent_board_error)


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
        points = grid_points((x0, x1), (y0, y1), n)
        images = decoder(points)
    except LatentError as e:
        st.error(f"Cannot draw the grid: {e}. Reset the scatter's view (double-click it).")
        return
    grid = mosaic(grid_rows(images, n), gap=0)
    scale = max(1, 720 // grid.shape[1])
    picture = enlarge(grid, scale)
    st.image(picture, width=picture.width, output_format="PNG")
    c1, c2, c3, c4 = st.columns([2, 2, 3, 3], vertical_alignment="bottom")
    row = c1.number_input("Row", 1, n, 1, key="latent_grid_row", help="Counted from the top")
    col = c2.number_input("Column", 1, n, 1, key="latent_grid_col", help="Counted from the left")
    cell = points[(min(row, n) - 1) * n + min(col, n) - 1]
    if c3.button("➕ Keep this grid cell", key="keep_cell"):
        keep(cell, "grid cell")
    c4.download_button("⬇️ Download the grid (PNG)", png_bytes(picture), on_click="ignore",
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
         "Colours are classes; click a class in the legend to hide or show it. Start from a photo of your own "
         "garment below, draw random items of a class, and keep what you like on the mood board.")
try:
    decoder, embedding, pad, stale, server_only = load_explorer(str(config.weight_path(config.VAE_RENDERER)),
                                                                str(config.VAE_EMBEDDING_PATH),
                                                                str(config.card_path(config.VAE_ENCODER)))
except (WeightsError, LatentError) as e:
    st.error(f"The latent explorer needs the trained VAE. {e}")
    st.info("Train it (about 15 minutes on two CPU cores): `python -m core.train vae`, "
            "then evaluate it: `python -m core.evaluate vae`.")
    st.stop()
prior = load_latent_prior(str(config.VAE_PRIOR_PATH))
if server_only:
    st.info(f"Dragging waits for the server, because the decoder's browser files are unusable: {server_only}")
if stale:
    st.warning("The embedding or the renderer was made with a different encoder than the shipped one, so dots or "
               "drawn items may sit in the wrong places. Retrain with `python -m core.train vae`, then "
               "`python -m core.train renderer`.")
if isinstance(prior, str):
    st.warning(f"Random items come from N(0, I) and class samples are off, because {prior}")

state_defaults()
if st.session_state.get("latent_link_error"):
    st.warning(f"The link could not be followed: {st.session_state.pop('latent_link_error')}; "
               "showing the origin instead.")
explorer(decoder, pad, len(embedding.labels))
sampling_and_print_settings()
garment_section(decoder)
mood_board(decoder)
manifold(decoder)
interpolation(decoder, embedding)
if "tensorflow" in sys.modules:  # never loads it here: the page opens without TensorFlow
    warm_garment_reader()
