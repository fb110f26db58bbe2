"""Clean documents page: upload scanned pages (or try generated samples), download clean ones."""
from dataclasses import dataclass

import streamlit as st
from PIL import Image

from core import limits
from core.clean import clean_image, output_name, pdf_bytes, zip_bytes
from core.documents.pairs import sample_pages
from core.imageio import InputError, read_upload
from core.inference import WeightsError, load_model
from core.render import png_bytes
from pages import use_app_navigation

UPLOAD_TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "pdf", "gif", "bmp", "webp"]
PDF_DPIS = [72, 100, 150, 200, 300]


@dataclass
class Result:
    label: str
    name: str
    before: Image.Image
    after: Image.Image


@st.cache_resource(show_spinner="Loading the document cleaner…")
def cleaner():
    return load_model("documents")


@st.cache_data(show_spinner="Generating sample pages…")
def samples() -> list[tuple[str, bytes]]:
    return [(f"sample-{i + 1}.png", png_bytes(Image.fromarray(p.noisy, "L"))) for i, p in enumerate(sample_pages())]


def decode(files: list[tuple[str, bytes]], dpi: int) -> tuple[list, list[str]]:
    """All pages of all files; a bad file becomes a message naming it, the others still count."""
    pages, errors = [], []
    for name, data in files:
        try:
            found = read_upload(data, name, pdf_dpi=dpi)
        except InputError as e:
            errors.append(str(e))
            continue
        pages += [(page, output_name(page.label, i, len(found))) for i, page in enumerate(found)]
    return pages, errors


def clean_all(model, pages: list) -> list[Result]:
    """Clean every page under one progress bar (advancing within big, tiled pages too)."""
    bar = st.progress(0.0, text=f"Cleaning {len(pages)} page(s)…")
    results, used = [], set()
    for i, (page, name) in enumerate(pages):
        def tick(f: float, i: int = i) -> None:
            bar.progress((i + f) / len(pages), text=f"Cleaning page {i + 1} of {len(pages)}…")

        tick(0.0)
        while name in used:
            name = f"{name.removesuffix('.png')}-{i + 1}.png"
        used.add(name)
        results.append(Result(page.label, name, page.image, clean_image(model, page.image, progress=tick)))
        if page.note:
            st.info(page.note)
    bar.progress(1.0, text=f"Cleaned {len(pages)} page(s).")
    return results


def downloads(results: list[Result]) -> None:
    pngs = [(r.name, png_bytes(r.after)) for r in results]
    c1, c2 = st.columns(2)
    c1.download_button(f"Download all {len(results)} page(s) as ZIP", zip_bytes(pngs), file_name="cleaned-pages.zip",
                       mime="application/zip", width="stretch")
    c2.download_button("Download all as one PDF", pdf_bytes([r.after for r in results]),
                       file_name="cleaned-pages.pdf", mime="application/pdf", width="stretch")


@st.fragment
def viewer(results: list[Result]) -> None:
    """Before/after of one page, a zoomed crop to inspect the text, and its PNG download."""
    i = st.selectbox("Page", range(len(results)), format_func=lambda k: results[k].label) if len(results) > 1 else 0
    r = results[i]
    left, right = st.columns(2)
    left.image(r.before, caption=f"{r.label}: as uploaded (grayscale)", width="stretch")
    right.image(r.after, caption="cleaned", width="stretch")
    w, h = r.before.size
    c1, c2, c3 = st.columns(3)
    zoom = c1.select_slider("Zoom", [1, 2, 3, 4], value=2, key=f"zoom{i}")
    cx = c2.slider("Crop across (%)", 0, 100, 30, key=f"cx{i}")
    cy = c3.slider("Crop down (%)", 0, 100, 20, key=f"cy{i}")
    cw, ch = max(1, min(w, 480 // zoom)), max(1, min(h, 320 // zoom))
    x0, y0 = round((w - cw) * cx / 100), round((h - ch) * cy / 100)
    box = (x0, y0, x0 + cw, y0 + ch)
    big = lambda im: im.crop(box).resize((cw * zoom, ch * zoom), Image.Resampling.NEAREST)  # noqa: E731
    z1, z2 = st.columns(2)
    z1.image(big(r.before), caption=f"before, {zoom}× crop", width="stretch", output_format="PNG")
    z2.image(big(r.after), caption=f"after, {zoom}× crop", width="stretch", output_format="PNG")
    st.download_button(f"Download {r.name}", png_bytes(r.after), file_name=r.name, mime="image/png")


def run(files: list[tuple[str, bytes]], dpi: int, key: tuple) -> None:
    try:
        model = cleaner()
    except WeightsError as e:
        st.error(f"The document cleaner is unavailable: {e}", icon="🚫")
        return
    pages, errors = decode(files, dpi)
    for message in errors:
        st.error(message, icon="🚫")
    if not pages:
        return
    cache = st.session_state.setdefault("clean_documents", {})
    if key not in cache:
        cache.clear()  # keep only the latest upload in memory
        cache[key] = clean_all(model, pages)
    results = cache[key]
    downloads(results)
    viewer(results)


use_app_navigation()  # a deep link opened first on a fresh server: see pages/__init__.py
st.title("🧾 Clean documents")
st.write(
    "Upload scanned or photographed pages with stains, creases, fading or coffee rings, and download clean "
    "black-on-white pages: one PNG each, all as a ZIP, or one PDF. Pages of any size are cleaned in overlapping "
    "tiles. Nothing you upload is stored."
)
source = st.radio("Pages", ["Upload files", "Try sample pages"], horizontal=True, label_visibility="collapsed")
if source == "Upload files":
    c1, c2 = st.columns([3, 1])
    uploads = c1.file_uploader("Scanned pages (PNG, JPEG, TIFF or PDF)", type=UPLOAD_TYPES,
                               accept_multiple_files=True, help=limits.describe())
    dpi = c2.select_slider("PDF resolution (dpi)", PDF_DPIS, value=limits.PDF_DPI_DEFAULT,
                           help="PDF pages are rasterised at this resolution before cleaning.")
    if uploads:
        files = [(u.name, u.getvalue()) for u in uploads]
        run(files, dpi, (tuple(u.file_id for u in uploads), dpi))
    else:
        st.caption("You can drop many files at once; multi-page TIFFs and PDFs are split into pages.")
else:
    st.caption("Pages made by the project's own generator and degraded like a bad scan (the same every visit).")
    files = samples()
    run(files, limits.PDF_DPI_DEFAULT, ("samples",))
