"""Custom Streamlit components (UI only; each is a Python wrapper plus a static frontend folder)."""
