"""Clean documents page: upload scanned pages (or try generated samples), download clean ones."""
from dataclasses import dataclass, field
from functools import partial

import streamlit as st
from PIL import Image
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException  # a rerun keeps a waiting job's place

from core import limits
from core.documents.pairs import sample_pages
from core.imageio import InputError, display_name, open_upload
from core.inference import WeightsError, load_model
from core.jobs import QueueFull, Ticket
from core.render import png_bytes
from core.naming import NamePlan, page_name, stem_of
from core.searchable_pdf import document, plain_text, read_pages
from core.serving.documents import DOCUMENT_JOBS, MODES, CleanedPage, clean_upload, on_worker, pdf_bytes, zip_bytes
from pages import use_app_navigation

UPLOAD_TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "pdf", "gif", "bmp", "webp"]
PDF_DPIS = [72, 100, 150, 200, 300]
PREVIEW_SIDE = 1000  # whole-page views are sent at most this big, as JPEG (half a 1400-pixel window, sharp on
# 2x screens); the zoomed crops show every pixel, the downloads are full size


@dataclass
class Job:
    """One upload's results: cleaned pages (the first as pixels, to show at once; the others as PNGs), the file
    each came from, and a message per bad file."""

    pages: list[CleanedPage] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)  # index into the uploaded files, per page
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@st.cache_resource(show_spinner="Loading the document cleaner…")
def cleaner():
    return load_model("documents")


@st.cache_data(show_spinner="Generating sample pages…")
def samples() -> list[tuple[str, bytes]]:
    return [(f"sample-{i + 1}.png", png_bytes(Image.fromarray(p.noisy, "L"))) for i, p in enumerate(sample_pages())]


def code(text: str) -> str:
    """Text (a file name) as a Markdown code span, so it shows as typed; display_name drops backticks."""
    return f"`{text}`"


def clean_files(model, files: list[tuple[str, bytes]], dpi: int, ticket: Ticket, straighten: bool = True) -> Job:
    """Clean every file page by page within the upload's pixel budget (run on the document worker, as one job
    of the shared line; ``ticket.report`` carries the progress).

    A bad file becomes a message naming it; the pages of the other files (and those of a file that broke
    part-way) are kept."""
    job, names, spent = Job(), NamePlan(), 0  # ZIP names unique case-insensitively, Windows-safe
    for k, (filename, data) in enumerate(files):
        name = display_name(filename)

        def tick(f: float, k: int = k, name: str = name) -> None:
            ticket.report(min(1.0, (k + f) / len(files)), f"Cleaning {code(name)} (file {k + 1} of {len(files)})…")

        tick(0.0)
        stem = names.claim("", name)
        try:
            for page in clean_upload(model, data, filename, dpi, left=limits.MAX_JOB_PIXELS - spent, progress=tick,
                                     straighten=straighten):
                page.name = page_name(stem, page.index, page.count)
                job.pages.append(page if not job.pages else page.encode())
                job.origins.append(k)
                spent += page.size[0] * page.size[1]
                if page.note and page.index == 0:
                    job.notes.append(f"{code(name)}: {page.note}")
        except InputError as e:
            job.errors.append(str(e))
    return job


def line_text(ahead: int) -> str:
    """Where a waiting job stands, for people."""
    return f"Waiting: {ahead} job{'s' if ahead != 1 else ''} ahead of yours (first come, first served)…"


def clean_all(model, files: list[tuple[str, bytes]], dpi: int, key: tuple, straighten: bool = True) -> Job | None:
    """Clean every file as one job in the server's shared line, showing the place in line, then a progress
    bar; ``None`` (with a message) when the line is full. A rerun while waiting (another widget touched)
    keeps the job's place; a new upload or a closed session gives it up."""
    held = st.session_state.get("clean_ticket")
    if held and held[0] == key:
        ticket = held[1]
    else:
        if held:
            held[1].cancel()
        try:
            ticket = DOCUMENT_JOBS.submit(partial(clean_files, model, files, dpi, straighten=straighten))
        except QueueFull:
            st.session_state.pop("clean_ticket", None)
            st.warning("The server is busy cleaning other people's documents: please try again in a minute.",
                       icon="⏳")
            return None
        st.session_state["clean_ticket"] = (key, ticket)
    bar = st.progress(0.0, text=f"Cleaning {len(files)} file(s)…")
    shown: list = [None]

    def update(t: Ticket) -> None:
        # Only changes go to the browser: ten people waiting would otherwise repaint ten bars four times a
        # second on a server whose cores are busy cleaning.
        ahead = t.ahead()
        state = (0.0, line_text(ahead)) if ahead else (round(t.fraction, 2), t.text or "Cleaning…")
        if state != shown[0]:
            shown[0] = state
            bar.progress(state[0], text=state[1])

    update(ticket)
    try:
        job = ticket.wait(update=update, keep=(RerunException,))
    except RerunException:
        raise
    except BaseException:
        st.session_state.pop("clean_ticket", None)
        raise
    st.session_state.pop("clean_ticket", None)
    bar.progress(1.0, text=f"Cleaned {len(job.pages)} page(s).")
    return job


def downloads(job: Job, mode: str) -> None:
    """ZIP and PDF of every page in the chosen output mode, built only when clicked."""
    pages = job.pages
    sources = {p.source for p in pages}
    stem = stem_of(sources.pop()) + "-cleaned" if len(sources) == 1 else "cleaned-pages"
    stem += "-bw" if mode == "bw" else ""
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(f"Download all {len(pages)} page(s) as ZIP",
                       lambda: zip_bytes((p.name, p.png(mode)) for p in pages),
                       file_name=f"{stem}.zip", mime="application/zip", on_click="ignore", width="stretch")
    c2.download_button("Download all as one PDF", lambda: pdf_bytes(pages, mode), file_name=f"{stem}.pdf",
                       mime="application/pdf", on_click="ignore", width="stretch",
                       help="Lossless 8-bit gray pages" if mode == "gray" else "1-bit pages, CCITT Group 4 compressed")
    read = "The text is read (OCR) when you click: a few seconds a page."
    c3.download_button("Download searchable PDF", lambda: on_worker(lambda _: document(pages, mode)[0]),
                       file_name=f"{stem}-searchable.pdf", mime="application/pdf", on_click="ignore", width="stretch",
                       help=f"The pages with their text under them, to search, select and copy. {read}")
    c4.download_button("Download text", lambda: on_worker(lambda _: (read_pages(pages), plain_text(pages))[1]),
                       file_name=f"{stem}.txt", mime="text/plain", on_click="ignore", width="stretch",
                       help=f"The recognised text, one line per line, a form feed between pages. {read}")


def view(key: tuple, files: list[tuple[str, bytes]], dpi: int, job: Job, i: int,
         mode: str) -> tuple[Image.Image, Image.Image]:
    """Page ``i`` as uploaded (decoded again, in this session's thread: on the worker it would wait behind
    other people's jobs) and as cleaned; the last one is kept."""
    held = st.session_state.get("clean_view")
    if held and held[0] == (key, i, mode):
        return held[1], held[2]
    st.session_state.pop("clean_view", None)  # let the previous pair go first
    filename, data = files[job.origins[i]]
    page = job.pages[i]

    with open_upload(data, filename, dpi) as upload:
        before = upload.page(page.index).image
    after = page.image(mode)
    st.session_state["clean_view"] = ((key, i, mode), before, after)
    return before, after


def preview(image: Image.Image) -> Image.Image:
    """A whole page small enough to send to the browser (any side, e.g. a 1 × 100000 strip)."""
    small = image.convert("L")
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BOX)
    return small


@st.fragment
def viewer(key: tuple, files: list[tuple[str, bytes]], dpi: int, job: Job, mode: str) -> None:
    """Before/after of one page, a zoomed crop to inspect the text, and its PNG download."""
    pages = job.pages
    i = st.selectbox("Page", range(len(pages)), format_func=lambda k: pages[k].label) if len(pages) > 1 else 0
    r = pages[i]
    before, after = view(key, files, dpi, job, i, mode)
    left, right = st.columns(2)
    left.image(preview(before), caption="as uploaded (grayscale)", width="stretch", output_format="JPEG")
    right.image(preview(after), caption=f"cleaned, {MODES[mode]}", width="stretch", output_format="JPEG")
    if r.turn is not None:
        st.caption(f"Straightened: {r.turn.describe()}." if r.turn else "Already upright and level: not turned.")
    w, h = before.size
    c1, c2, c3 = st.columns(3)
    zoom = c1.select_slider("Zoom", [1, 2, 3, 4], value=2, key=f"zoom{i}")
    cx = c2.slider("Crop across (%)", 0, 100, 30, key=f"cx{i}")
    cy = c3.slider("Crop down (%)", 0, 100, 20, key=f"cy{i}")
    cw, ch = max(1, min(w, 480 // zoom)), max(1, min(h, 320 // zoom))
    x0, y0 = round((w - cw) * cx / 100), round((h - ch) * cy / 100)
    box = (x0, y0, x0 + cw, y0 + ch)
    big = lambda im: im.convert("L").crop(box).resize((cw * zoom, ch * zoom), Image.Resampling.NEAREST)  # noqa: E731
    z1, z2 = st.columns(2)
    z1.image(big(before), caption=f"before, {zoom}× crop", width="stretch", output_format="PNG")
    z2.image(big(after), caption=f"after, {zoom}× crop", width="stretch", output_format="PNG")
    st.download_button(f"Download {code(r.name)}, {MODES[mode]}", lambda: r.png(mode), file_name=r.name,
                       mime="image/png", on_click="ignore")


def run(files: list[tuple[str, bytes]], dpi: int, key: tuple, mode: str, straighten: bool) -> None:
    try:
        model = cleaner()
    except WeightsError as e:
        st.error(f"The document cleaner is unavailable: {e}", icon="🚫")
        return
    cache = st.session_state.setdefault("clean_documents", {})
    if key not in cache:
        cache.clear()  # keep only the latest upload in memory
        st.session_state.pop("clean_view", None)
        job = clean_all(model, files, dpi, key, straighten)
        if job is None:
            return
        cache[key] = job
    job = cache[key]
    for message in job.errors:
        st.error(message, icon="🚫")
    for note in job.notes:
        st.info(note)
    if not job.pages:
        return
    downloads(job, mode)
    viewer(key, files, dpi, job, mode)


use_app_navigation()  # a deep link opened first on a fresh server: see pages/__init__.py
st.title("🧾 Clean documents")
st.write(
    "Upload scanned or photographed pages with stains, creases, fading or coffee rings, and download clean "
    "pages: one PNG each, all as a ZIP, one PDF, or a searchable PDF and its text, in clean gray or in black & "
    "white. Crooked and sideways pages are straightened first. Nothing you upload is stored."
)
source = st.radio("Pages", ["Upload files", "Try sample pages"], horizontal=True, label_visibility="collapsed")
mode = st.radio("Output", list(MODES), format_func=MODES.get, horizontal=True, key="mode",
                help="Clean gray keeps the cleaned page's shades; black & white draws every mark the cleaner kept in "
                     "pure black at its full width on the page (1-bit PNGs, and a small CCITT Group 4 PDF).")
straighten = st.toggle("Straighten pages", value=True,
                       help="Before cleaning, turn sideways or upside-down pages upright and level crooked ones "
                            "(pages without text, such as photos, stay as they are).")
if source == "Upload files":
    c1, c2 = st.columns([3, 1])
    uploads = c1.file_uploader("Scanned pages (PNG, JPEG, TIFF or PDF)", type=UPLOAD_TYPES,
                               accept_multiple_files=True, help=limits.describe())
    dpi = c2.select_slider("PDF resolution (dpi)", PDF_DPIS, value=limits.PDF_DPI_DEFAULT,
                           help="PDF pages are rasterised at this resolution before cleaning.")
    if uploads:
        files = [(u.name, u.getvalue()) for u in uploads]
        run(files, dpi, (tuple(u.file_id for u in uploads), dpi, straighten), mode, straighten)
    else:
        st.caption("You can drop many files at once; multi-page TIFFs and PDFs are split into pages. "
                   + limits.describe_job())
else:
    st.caption("Pages made by the project's own generator and degraded like a bad scan (the same every visit).")
    run(samples(), limits.PDF_DPI_DEFAULT, ("samples", straighten), mode, straighten)
