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
def serve_app(port: int | None = None, timeout: float = 120) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``streamlit run app.py`` on localhost; yield its base URL and process; stop it afterwards."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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
                    raise RuntimeError(f"the app did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
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
        page.route("**/decoder-*", lambda route: route.abort())
    page.goto(f"{app_url}/latent_explorer")
    marker = page.frame_locator('iframe[title*="latent_pad"]').locator("#marker")
    marker.wait_for(state="visible", timeout=timeout_ms)
    frame = next(f for f in page.frames if "latent_pad" in f.url)
    frame.wait_for_function("window.latentPad && window.latentPad.painted >= 1", timeout=timeout_ms)
    if decodes == "browser":
        frame.wait_for_function("window.latentPad.decodes === 'browser'", timeout=timeout_ms)
    return frame, marker


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
