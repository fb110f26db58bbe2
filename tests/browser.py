"""Real-browser test support: the app served on a free localhost port, Debian's Chromium via Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(tempfile.gettempdir()) / "autoencoder-studio-screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(port: int | None = None, timeout: float = 120, root: Path = ROOT, wrapper: tuple[str, ...] = (),
              env: dict | None = None, log: Path | None = None, poll: float = 0.5,
              ) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``streamlit run app.py`` (the README's command) in ``root`` on localhost, behind ``wrapper`` (e.g.
    setpriv) with ``env``; yield its base URL and process; stop it afterwards. Its output goes to ``log``."""
    port = port or free_port()
    with open(log or os.devnull, "wb") as out:
        proc = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    said = Path(log).read_text()[-2000:] if log else "(no log kept)"
                    raise RuntimeError(f"the app did not start: {said}")
                time.sleep(poll)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def open_latent_pad(page, app_url: str, decodes: str | None = None, timeout_ms: int = 120_000):
    """Open the latent explorer; return the pad's (frame, marker) once its plot and first item are painted.

    ``decodes="server"`` blocks the browser decoder's weights first (the pad's fallback); ``"browser"``
    also waits until the pad decodes by itself."""
    if decodes == "server":
        page.route("**/components.latent_pad.decoder_files/**", lambda route: route.abort())
    page.goto(f"{app_url}/latent_explorer")
    return latent_pad_painted(page, decodes, timeout_ms)


def latent_pad_painted(page, decodes: str | None = None, timeout_ms: int = 120_000):
    """The pad's (frame, marker) once its plot and first item are painted (see ``open_latent_pad``)."""
    marker = page.frame_locator('iframe[title*="latent_pad"]').locator("#marker")
    marker.wait_for(state="visible", timeout=timeout_ms)
    frame = next(f for f in page.frames if "latent_pad" in f.url)
    frame.wait_for_function("window.latentPad && window.latentPad.painted >= 1", timeout=timeout_ms)
    if decodes == "browser":
        frame.wait_for_function("window.latentPad.decodes === 'browser'", timeout=timeout_ms)
    return frame, marker


PAGE_PATHS = ("", "denoise", "latent_explorer", "clean_documents")  # app.py's pages, by URL path
APP_TITLE = "Autoencoder Studio"  # app.py's page config
NAVIGATION = ["Home", "Denoise", "Latent explorer", "Clean documents"]  # app.py's st.navigation
IMAGES_PAINTED = ("[...document.querySelectorAll('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img')]"
                  ".filter(i => i.complete && i.naturalWidth > 0).length >= 4")


def wait_painted(page, path: str, timeout_ms: int = 120_000) -> None:
    """Wait until what a page of the app shows first is painted: the home's four pictures, Denoise's item with
    its scores and pictures, the latent pad decoding in the browser, the document uploader."""
    main = page.locator('[data-testid="stMain"]')
    if path == "latent_explorer":
        latent_pad_painted(page, "browser", timeout_ms)
        return
    if path == "denoise":
        main.locator('[data-testid="stMetricValue"]').nth(3).wait_for(timeout=timeout_ms)
    elif path == "clean_documents":
        main.locator('[data-testid="stFileUploader"]').wait_for(timeout=timeout_ms)
    if path in ("", "denoise"):
        page.wait_for_function(IMAGES_PAINTED, timeout=timeout_ms)


def wait_until_painted(page, app_url: str, path: str, timeout_ms: int = 120_000) -> None:
    """Open one page of the app by its URL and wait until it is painted (``wait_painted``)."""
    page.goto(f"{app_url}/{path}")
    wait_painted(page, path, timeout_ms)


def assert_app_page_without_errors(page) -> None:
    """The page runs inside app.py (its title and navigation) and shows no error or traceback."""
    assert page.title() == APP_TITLE
    nav = page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]').all_inner_texts()
    assert [n.strip().splitlines()[-1] for n in nav] == NAVIGATION, nav
    assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    assert "Traceback" not in page.locator('[data-testid="stMain"]').inner_text()


def launch(playwright):
    """Debian's Chromium, headless, with no background network traffic."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    with serve_app() as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; a screenshot is saved under the temp dir if the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        shot = SCREENSHOTS / f"{request.node.name}.png"
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
    context.close()
