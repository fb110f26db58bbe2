"""Autoencoder Studio: entry point and navigation (``streamlit run app.py``)."""
import streamlit as st

st.set_page_config(page_title="Autoencoder Studio", page_icon="🧵", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/denoise.py", title="Denoise", icon="✨"),
    st.Page("pages/latent_explorer.py", title="Latent explorer", icon="🧭"),
    st.Page("pages/clean_documents.py", title="Clean documents", icon="🧾"),
]

st.navigation(PAGES).run()
