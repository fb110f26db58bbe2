"""Denoise page: noise a clothing item, then restore it with the autoencoder and a median filter."""
import numpy as np
import streamlit as st

from core import limits
from core.config import CLASS_NAMES
from core.data import DataUnavailable, load_test_set, to_float
from core.imageio import InputError, display_name, open_upload, shrink, to_fashion_item
from core.inference import WeightsError
from core.noise import NOISE_KINDS
from core.render import enlarge, mosaic, png_bytes
from core.serving import denoiser as serving
from pages import use_app_navigation

UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
ITEMS_PER_CLASS = 1000  # the test set holds 1,000 items of each class


@st.cache_resource(show_spinner="Loading the denoiser…")
def denoiser():
    return serving.load()


@st.cache_resource(show_spinner="Loading Fashion-MNIST test items…")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    data = load_test_set()
    return to_float(data.images), data.labels


def get_model():
    try:
        return denoiser(), None
    except WeightsError as e:
        return None, str(e)


def get_test_set():
    try:
        return test_set(), None
    except DataUnavailable as e:
        return None, f"Only uploads are available: {e}"


def pick_test_item(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, str]:
    """Class + index pickers (or a random draw) over the test set."""
    c1, c2, c3 = st.columns([3, 2, 1], vertical_alignment="bottom")
    cls = c1.selectbox("Class", range(len(CLASS_NAMES)), format_func=lambda i: CLASS_NAMES[i], key="cls")
    if c3.button("🎲 Random", help="Pick a random item of any class"):
        rng = np.random.default_rng()
        st.session_state.cls = int(rng.integers(len(CLASS_NAMES)))
        st.session_state.idx = int(rng.integers(ITEMS_PER_CLASS))
        st.rerun(scope="fragment")
    idx = c2.number_input("Item", 0, ITEMS_PER_CLASS - 1, key="idx", help="Which item of this class (0–999)")
    item = images[np.flatnonzero(labels == cls)[idx]]
    return item, f"{CLASS_NAMES[cls]} #{idx}"


def pick_upload() -> tuple[np.ndarray | None, str]:
    """An uploaded picture converted to a 28×28 light-on-dark item, with the conversion shown."""
    upload = st.file_uploader("Your image", type=UPLOAD_TYPES, help=limits.describe())
    if upload is None:
        st.caption("Any photo or drawing of a single item works best on a plain background.")
        return None, ""
    name = display_name(upload.name)
    try:  # only the first page is decoded, and it is shrunk at once: memory stays within the documents' bounds
        with open_upload(upload.getvalue(), upload.name) as opened:
            page = opened.page(0)
    except InputError as e:
        st.error(str(e), icon="🚫")
        return None, ""
    page.image = shrink(page.image)
    item = to_fashion_item(page.image)
    c1, c2 = st.columns(2)
    c1.image(page.image, caption=f"`{name}` as uploaded (grayscale)", width=220, output_format="PNG")
    c2.image(enlarge(item, 8), caption="as a 28×28 Fashion-MNIST item (light on dark)", width=220,
             output_format="PNG")
    if page.note:
        st.info(page.note)
    return item[..., None], name


def noise_controls() -> tuple[str, float, int]:
    c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    kind = c1.selectbox("Noise", list(NOISE_KINDS), format_func=lambda k: NOISE_KINDS[k].label)
    spec = NOISE_KINDS[kind]
    amount = c2.slider(f"Amount ({spec.amount_label})", spec.low, spec.high, spec.default, spec.step,
                       key=f"amount_{kind}")
    if c3.button("New noise", help="Draw a fresh noise pattern"):
        st.session_state.noise_seed = int(np.random.default_rng().integers(1_000_000))
    return kind, float(amount), st.session_state.setdefault("noise_seed", 0)


def show_single(item: np.ndarray, title: str, kind: str, amount: float, seed: int, model) -> None:
    result = serving.compare(item, kind, amount, seed, model)
    panels = {"clean": result.clean[0], **{k: v[0] for k, v in result.images.items()}}
    for col, (label, image) in zip(st.columns(len(panels)), panels.items()):
        col.image(enlarge(image, 8), caption=label, width="stretch", output_format="PNG")
        if label == "clean":
            col.caption(title)
        else:
            col.metric("PSNR", f"{result.psnr[label][0]:.1f} dB")
            col.metric("SSIM", f"{result.ssim[label][0]:.3f}")
    strip = mosaic([np.stack(list(panels.values()))])
    st.download_button("Download side by side (PNG)", png_bytes(enlarge(strip, 8)),
                       file_name="denoise-comparison.png", mime="image/png")


def show_grid(images: np.ndarray, labels: np.ndarray, kind: str, amount: float, seed: int, model) -> None:
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    choice = c1.selectbox("Items", ["all classes", *CLASS_NAMES], key="grid_class")
    count = c2.select_slider("How many", [8, 16, 32], value=16)
    pool = np.arange(len(images)) if choice == "all classes" else np.flatnonzero(labels == CLASS_NAMES.index(choice))
    picked = np.random.default_rng(seed).choice(pool, count, replace=False)
    result = serving.compare(images[picked], kind, amount, seed, model)
    rows = {"clean": result.clean, **result.images}
    grid = mosaic(list(rows.values()))
    st.image(enlarge(grid, 4), caption="Rows, top to bottom: " + ", ".join(rows), width="stretch",
             output_format="PNG")
    st.dataframe(
        {"method": list(result.psnr), "mean PSNR (dB)": [round(float(v.mean()), 2) for v in result.psnr.values()],
         "mean SSIM": [round(float(v.mean()), 3) for v in result.ssim.values()]},
        hide_index=True,
    )
    st.download_button("Download grid (PNG)", png_bytes(enlarge(grid, 4)), file_name="denoise-grid.png",
                       mime="image/png")


@st.fragment
def workbench() -> None:
    model, model_error = get_model()
    if model_error:
        st.warning(f"The trained denoiser is unavailable, so only the median filter is shown. {model_error}")
    data, data_error = get_test_set()
    sources = (["Fashion-MNIST test item"] if data else []) + ["Upload your own image"]
    if data_error:
        st.info(data_error)
    source = st.radio("Item", sources, horizontal=True, label_visibility="collapsed")
    if source == "Upload your own image":
        item, title = pick_upload()
    else:
        item, title = pick_test_item(*data)
    kind, amount, seed = noise_controls()
    single, grid = st.tabs(["One item", "A grid of items"])
    with single:
        if item is not None:
            show_single(item, title, kind, amount, seed, model)
    with grid:
        if data:
            show_grid(*data, kind, amount, seed, model)
        else:
            st.info("The grid needs the Fashion-MNIST test set, which is not on this machine.")


use_app_navigation()  # a deep link opened first on a fresh server: see pages/__init__.py
st.title("✨ Denoise clothing")
st.write(
    "Add noise to a clothing picture and watch a convolutional autoencoder take it away. "
    "The classic 3×3 median filter is shown beside it for comparison; PSNR and SSIM measure how close "
    "each result is to the clean item (higher is better)."
)
workbench()
