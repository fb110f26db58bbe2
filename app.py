"""Autoencoder Studio: entry point and navigation (``streamlit run app.py``)."""
import sys

sys.dont_write_bytecode = True  # the app writes nothing under the project, no __pycache__ either

import gc  # noqa: E402
import importlib  # noqa: E402
import threading  # noqa: E402

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Autoencoder Studio", page_icon="🧵", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/denoise.py", title="Denoise", icon="✨"),
    st.Page("pages/latent_explorer.py", title="Latent explorer", icon="🧭"),
    st.Page("pages/clean_documents.py", title="Clean documents", icon="🧾"),
]


def load_tensorflow() -> None:
    """Import TensorFlow and the models, then move what is loaded out of the garbage collector's way.

    Process-wide, so it lives here and nowhere else: Streamlit runs a full ``gc.collect`` after every run,
    fragment runs (each drag step of the latent pad) included; with TensorFlow loaded that took 0.6–0.9 s
    here, far longer than a drag step. Moving the long-lived objects (modules, models) to the permanent
    generation makes it ~1 ms. Pages that import TensorFlow themselves do it before or while this runs, so
    what they load is frozen here too."""
    importlib.import_module("core.models")
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Once per server, after the first page is shown: load TensorFlow in the background, so the first
    visit of a page that needs it does not wait the ~5 s its import takes."""
    thread = threading.Thread(target=load_tensorflow, name="warm-up", daemon=True)
    thread.start()
    return thread


st.navigation(PAGES).run()
warm_up()
