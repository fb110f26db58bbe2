"""Home page: each model at work on an example computed from its shipped weights, its headline number from
its card, and one click to its page.

Loads no TensorFlow, so it appears fast: the denoiser's and the cleaner's examples come from
weights/examples.npz (made from the shipped weights by ``python -m core.examples``), the clothing strip is
decoded here by core.serving.vae (the decoder's ONNX export, run by onnxruntime). An example whose model
changed since is computed here, after the rest of the page is painted.
"""
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core import config
from core.card import WeightsError, read_card
from core.config import CLASS_NAMES
from core.data import DataUnavailable
from core.examples import compute, shipped
from core.render import enlarge, mosaic
from core.serving.vae import LatentError, class_walk, fast_decoder, load_embedding
from pages import use_app_navigation

WALK = [1, 3, 4, 8, 9, 7, 5]  # trouser → dress → coat → bag → ankle boot → sneaker → sandal
WALK_STEPS = 14


def card(name: str) -> dict:
    """A model's card, or {} with a warning when it cannot be read."""
    try:
        return read_card(config.card_path(name))
    except WeightsError as e:
        st.warning(f"The scores of `{name}` are unavailable: {e}")
        return {}


def denoiser_headline() -> str:
    m = card("denoiser").get("test_metrics", {}).get("s&p 0.1")
    if not m:
        return "Not evaluated yet: `python -m core.evaluate denoiser`."
    return (f"**{m['model']['psnr_db']:.1f} dB** PSNR on the 10,000 test items with 10 % salt-and-pepper noise "
            f"(noisy input {m['noisy input']['psnr_db']:.1f} dB, median filter {m['median 3×3']['psnr_db']:.1f} dB; "
            "higher is better).")


def documents_headline() -> str:
    e = card("documents").get("evaluation", {}).get("held_out_synthetic", {})
    if "rmse_removed" not in e:
        return "Not evaluated yet: `python -m core.evaluate documents`."
    text = f"Removes **{100 * e['rmse_removed']:.1f} %** of the damage (RMSE) on {e.get('pages', 'the')} held-out pages"
    cer = e.get("tesseract_cer", {})
    if "noisy input" in cer and "shipped model" in cer:
        text += (f"; OCR misreads {100 * cer['shipped model']:.0f} % of the characters instead of "
                 f"{100 * cer['noisy input']:.0f} %")
    return text + "."


def vae_headline() -> str:
    c = card(config.VAE_DECODER)
    elbo, seed = c.get("test_neg_elbo_nats", {}).get("neg_elbo"), c.get("seed_baseline_test_neg_elbo_nats", {})
    if elbo is None:
        return "Not evaluated yet: `python -m core.evaluate vae`."
    text = f"**{elbo:.1f} nats** per test item (−ELBO: how well it explains unseen clothing, lower is better"
    return text + (f"; the seed architecture: {seed['neg_elbo']:.1f})." if "neg_elbo" in seed else ").")


def show_denoiser(pictures: dict[str, np.ndarray], numbers: dict) -> None:
    strip = mosaic([np.stack([pictures[k] for k in ("clean", "noisy", "restored")]) / 255.0], gap=3)
    psnr, noise = numbers["psnr_db"], numbers["noise"]
    amount = f"{100 * noise['amount']:.0f} % salt-and-pepper" if noise["kind"] == "s&p" else noise["kind"]
    st.image(enlarge(strip, 6), output_format="PNG",
             caption=f"{numbers['item']}: clean · with {amount} noise ({psnr['noisy']:.1f} dB) · "
                     f"restored by the autoencoder ({psnr['restored']:.1f} dB)")


def show_documents(pictures: dict[str, np.ndarray], numbers: dict) -> None:
    rmse = numbers["rmse"]
    left, right = st.columns(2)
    left.image(pictures["scan"], output_format="PNG", caption=f"a stained scan (RMSE {rmse['scan']:.3f})")
    right.image(pictures["cleaned"], output_format="PNG", caption=f"cleaned (RMSE {rmse['cleaned']:.3f})")


SHOW = {"denoiser": show_denoiser, "documents": show_documents}


def example(name: str, pending: list) -> None:
    """The shipped example; one made from other weights is computed after the page is painted."""
    found = shipped(name)
    if found:
        SHOW[name](*found)
    else:
        pending.append((name, st.empty()))


@st.cache_resource(show_spinner=False)
def live_example(name: str, weights_sha256: str | None) -> tuple[dict[str, np.ndarray], dict]:
    """A model's example computed from its weights now (cached per weights checksum)."""
    return compute(name)


@st.cache_resource(show_spinner=False)
def clothing_walk(decoder_path: str, embedding_path: str) -> np.ndarray:
    """Items decoded along a path through the latent space, as one enlarged strip."""
    decoder, _, _ = fast_decoder(Path(decoder_path))
    images = decoder(class_walk(load_embedding(embedding_path), WALK, WALK_STEPS))
    return np.asarray(enlarge(mosaic([images], gap=2), 3))


def section(title: str, headline: str, page: str, label: str) -> DeltaGenerator:
    """A bordered row: what the model does, its headline number and a link on the left; returns the right
    column, for its pictures."""
    with st.container(border=True):
        text, pictures = st.columns([2, 3], vertical_alignment="center")
        text.subheader(title)
        text.markdown(headline)
        text.page_link(page, label=label, icon=title.split()[0])
    return pictures


use_app_navigation()  # a deep link opened first on a fresh server: see pages/__init__.py
st.title("🧵 Autoencoder Studio")
st.write("Autoencoders learn to squeeze a picture into a few numbers and rebuild it. That simple idea can remove "
         "noise, clean scanned pages and invent new clothing. Every model here was trained by this project and "
         "runs on this machine; nothing you upload leaves it or is stored. Each example below was computed "
         "from the shipped models.")

pending: list = []
with section("✨ Denoise clothing", denoiser_headline(), "pages/denoise.py", "Noise an item and restore it"):
    example("denoiser", pending)
with section("🧾 Clean documents", documents_headline(), "pages/clean_documents.py",
             "Upload scans, download clean pages"):
    example("documents", pending)
with section("🧭 Latent explorer", vae_headline(), "pages/latent_explorer.py",
             "Drag through the latent space, watch clothing appear"):
    try:
        strip = clothing_walk(str(config.weight_path(config.VAE_RENDERER)), str(config.VAE_EMBEDDING_PATH))
        st.image(strip, output_format="PNG",
                 caption="New clothing decoded along a path through the VAE's 2-D latent space: "
                         + " → ".join(CLASS_NAMES[c] for c in WALK))
    except (LatentError, WeightsError) as e:
        st.warning(f"The clothing strip is unavailable: {e}")

for name, slot in pending:
    with slot.container():
        try:
            with st.spinner(f"The {name} model changed since its example was made: computing it now…"):
                sha = read_card(config.card_path(name)).get("sha256")
                SHOW[name](*live_example(name, sha))
        except (WeightsError, DataUnavailable) as e:
            st.warning(f"No example for the {name} model: {e}")
