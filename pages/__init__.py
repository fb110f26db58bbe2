"""The app's pages (run by app.py's st.navigation), and the one thing they share: ``use_app_navigation``."""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def use_app_navigation() -> None:
    """Make a deep link (``/denoise``) opened first on a fresh server run through app.py.

    Streamlit starts in its pages/-folder mode whenever a ``pages/`` folder lies next to the main script, and
    leaves it for good once any session calls st.navigation (documented). Until then a deep link runs the page
    alone: another sidebar, no page config. Here the page ends that mode and reruns, so app.py's navigation
    and page config apply (the page keeps its URL: pages are identified by URL path in both modes). It does
    nothing once app.py has run, and nothing for a page run alone (AppTest), where there is no such folder."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
