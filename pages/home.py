"""Home page: what the studio does and where to go."""
import streamlit as st

from core.card import read_card
from core.config import card_path

st.title("🧵 Autoencoder Studio")
st.write(
    "Autoencoders learn to squeeze an image into a few numbers and rebuild it. That simple idea can "
    "**remove noise**, **clean scanned pages** and **invent new clothing**. Every model here was trained "
    "by this project and runs on this machine — nothing you upload leaves it or is stored."
)

st.page_link("pages/denoise.py", label="**Denoise** — noise a clothing item and restore it", icon="✨")
st.page_link("pages/clean_documents.py", label="**Clean documents** — upload scans, download clean pages", icon="🧾")
st.page_link("pages/latent_explorer.py", label="**Latent explorer** — drag through a VAE's latent space and "
             "watch new clothing appear", icon="🧭")

card = read_card(card_path("denoiser"))
metrics = card.get("test_metrics", {}).get("s&p 0.1")
if metrics:
    st.caption(
        f"On the 10,000 Fashion-MNIST test items with 10 % salt-and-pepper noise the denoiser reaches "
        f"{metrics['model']['psnr_db']:.1f} dB PSNR, against {metrics['median 3×3']['psnr_db']:.1f} dB for a "
        f"median filter and {metrics['noisy input']['psnr_db']:.1f} dB for the noisy input."
    )
