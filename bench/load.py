"""Load test: N people at once in headless Chromium, cleaning an A4 scan and dragging the latent point.

Run: python bench/load.py [--sessions 1 5 10] [--dpi 150] [--no-poster] [--warm] [--nice-clients 10] [--no-drag]
[--cli].
Starts the app on a free localhost port, drives N browser sessions concurrently through the Clean
documents page (upload one A4 scan, wait until its result is on screen) and the Latent explorer (a 10-step
drag), and prints completion, latencies (p50 and slowest clean from opening the page, p50 from the upload; p50/p95
drag step), the server's peak RSS, the CPU seconds of the server and of everything else (the browsers) and the
load average per N. A page's times are taken by the page's own clock (``RESULT_CLOCK``): from the file input's
change event (the file picked) to the frame after both the ZIP/PDF buttons and the four page pictures are there,
so the driver's own polling is not counted. The first session also uploads the 6.5 kB PDF of 50 blank
42 × 42-inch pages (2 gigapixels at 150 dpi) with its scan, and must get its refusal message and still its clean
page. With --warm, one uncounted session first cleans the scan on each fresh server (TensorFlow imported, the
model loaded), so the times are those of a server already in use; with --no-drag people only clean their page
(the document line alone). With --cli, ``python -m core.clean --deskew`` (straightened, as the app's page does
by default) first cleans the same scan once and nine times over, the faster of two runs each (its seconds per
page once loaded: the difference over eight pages), and the app's median from the upload at N = 1 (over every
N = 1 level given, e.g. --sessions 1 1 1) is given as a ratio of it.
Not part of the test suite (minutes of CPU on 2 cores).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from core.documents.pairs import sample_pages  # noqa: E402
from core.render import png_bytes  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve_app  # noqa: E402

A4_MM = (210, 297)
DRAG_STEPS = 10
CLI_COPIES = 9
# Seconds on the page's clock (from its navigation): the file picked, and the frame after the result is there
# (the PDF button and the four pictures: both page previews and both zoomed crops, loaded).
RESULT_CLOCK = """
window.benchTimes = {};
const now = () => performance.now() / 1000;
document.addEventListener("change", e => {
  if (e.target.type === "file" && !window.benchTimes.picked) window.benchTimes.picked = now();
}, true);
let queued = false;
const check = () => {  // once a frame at most, in the frame that paints what it finds (textContent: no layout)
  queued = false;
  const t = window.benchTimes;
  if (!t.picked || t.result) return;
  const pdf = [...document.querySelectorAll("button")].some(b => b.textContent.includes("as one PDF"));
  const images = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')];
  if (pdf && images.length >= 4 && images.every(i => i.complete && i.naturalWidth > 0)) t.result = now();
};
const soon = () => { if (!queued) { queued = true; requestAnimationFrame(check); } };
new MutationObserver(soon).observe(document, {subtree: true, childList: true, attributes: true});
document.addEventListener("load", soon, true);  // pictures finishing (load does not bubble; capture sees it)
"""


def poster_pdf(pages: int = 50, inches: float = 42) -> bytes:
    """A PDF of blank pages of inches × inches: 50 pages take 6.5 kB and 2 gigapixels at 150 dpi."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=inches * 72, height=inches * 72)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def a4_scan(dpi: int) -> bytes:
    """A degraded A4 page from the project's generator, as PNG bytes."""
    w, h = (round(mm / 25.4 * dpi) for mm in A4_MM)
    return png_bytes(Image.fromarray(sample_pages(1, size=(h, w))[0].noisy, "L"))


class PeakRSS(threading.Thread):
    """Samples a process's resident memory (and its peak, VmHWM) until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak_mb = max(self.peak_mb, self.read("VmHWM"))
            time.sleep(0.2)

    def read(self, field: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        return 0.0


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds used so far by process ``pid`` (all its threads), or by the whole machine when None."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / tick


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def session(browser, url: str, scan: Path, poster: Path | None = None, drag: bool = True) -> dict:
    """One person: clean an A4 scan (with the poster PDF, when given), then (``drag``) drag the latent point;
    returns latencies in seconds. The files are picked from disk, as people do: handing Chromium their bytes
    through Playwright instead added ~0.45 s to an A4 scan's upload."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    await context.add_init_script(RESULT_CLOCK)
    page = await context.new_page()
    try:
        await page.goto(f"{url}/clean_documents")
        files = [scan, poster] if poster else [scan]
        await page.locator('input[type="file"]').wait_for(state="attached", timeout=300_000)
        await page.locator('input[type="file"]').set_input_files(files=files)
        await page.wait_for_function("window.benchTimes.result", timeout=900_000)
        times = await page.evaluate("window.benchTimes")
        documents_s, from_upload_s = times["result"], times["result"] - times["picked"]
        if poster:  # refused by name, next to the cleaned scan
            await page.get_by_text("poster.pdf is 1984 megapixels").wait_for(timeout=10_000)
        if not drag:
            return {"ok": True, "documents_s": documents_s, "from_upload_s": from_upload_s, "moves_s": []}

        await page.goto(f"{url}/latent_explorer")
        marker = page.frame_locator('iframe[title*="latent_pad"]').locator("#marker")
        await marker.wait_for(state="visible", timeout=300_000)
        frame = next(f for f in page.frames if "latent_pad" in f.url)
        await frame.wait_for_function("window.latentPad && window.latentPad.painted >= 1", timeout=120_000)
        box = await marker.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        await page.mouse.move(x, y)
        await page.mouse.down()
        moves = []
        for step in range(1, DRAG_STEPS + 1):
            count = await frame.evaluate("window.latentPad.painted")
            t = time.perf_counter()
            await page.mouse.move(x + 15 * step, y - 10 * step)
            await frame.wait_for_function("n => window.latentPad.painted > n", arg=count, timeout=120_000)
            moves.append(time.perf_counter() - t)
        await page.mouse.up()
        return {"ok": True, "documents_s": documents_s, "from_upload_s": from_upload_s, "moves_s": moves}
    except Exception as e:  # a failed session is counted, not fatal to the run
        return {"ok": False, "error": f"{type(e).__name__}: {str(e)[:200]}"}
    finally:
        await context.close()


def cli_seconds(scan: bytes, copies: int) -> float:
    """Wall seconds of ``python -m core.clean --deskew`` (start-up and model load included) on ``copies`` copies of
    ``scan``: straightened, as the app's page does by default, so both do the same work."""
    with tempfile.TemporaryDirectory(prefix="load-bench-cli-") as folder:
        inputs = Path(folder) / "in"
        inputs.mkdir()
        for k in range(copies):
            (inputs / f"a4-scan-{k}.png").write_bytes(scan)
        start = time.perf_counter()
        command = [sys.executable, "-m", "core.clean", str(inputs), "--out", f"{folder}/out", "--quiet", "--deskew"]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - start


def niced_chromium(niceness: int, folder: Path) -> str:
    """A launcher that runs Chromium at ``niceness``: the browsers stand for people's own computers, so on a
    shared 2-core bench machine the server's work goes first and the clients take what is left."""
    launcher = folder / "chromium"
    launcher.write_text(f'#!/bin/sh\nexec nice -n {niceness} "{CHROMIUM}" "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


async def run_level(url: str, n: int, scan: Path, poster: Path | None, chromium: str = CHROMIUM,
                    drag: bool = True) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(session(browser, url, scan, poster if i == 0 else None, drag)
                                          for i in range(n)))
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the A4 scan (150 or 300)")
    parser.add_argument("--no-poster", action="store_true", help="leave the 50-page poster PDF out of the mix")
    parser.add_argument("--warm", action="store_true", help="one uncounted session first (model loaded)")
    parser.add_argument("--nice-clients", type=int, default=0, metavar="N",
                        help="run Chromium at niceness N (e.g. 10), so the server's cores serve the server first")
    parser.add_argument("--no-drag", action="store_true",
                        help="people only clean their page (no latent drag after it): the document line alone")
    parser.add_argument("--cli", action="store_true",
                        help="also time python -m core.clean on the scan, "
                             "and give the app's N = 1 time as a ratio of it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-bench-") as folder:  # the files people pick, the niced launcher
        bench(args, Path(folder))


def bench(args: argparse.Namespace, folder: Path) -> None:
    """The levels of ``args``, with the scan (and the poster PDF, the launcher) kept in ``folder``."""
    chromium = niced_chromium(args.nice_clients, folder) if args.nice_clients else CHROMIUM
    scan, poster = folder / "a4-scan.png", None if args.no_poster else folder / "poster.pdf"
    scan.write_bytes(a4_scan(args.dpi))
    if poster:
        poster.write_bytes(poster_pdf())
    print(f"A4 scan at {args.dpi} dpi: {scan.stat().st_size / 1024:.0f} KB PNG"
          + ("" if args.no_poster
             else f"; the first session also uploads a {poster.stat().st_size / 1000:.1f} kB poster PDF")
          + "\n")
    cli_page = None
    if args.cli:
        one, many = (min(cli_seconds(scan.read_bytes(), n) for _ in range(2)) for n in (1, CLI_COPIES))
        cli_page = (many - one) / (CLI_COPIES - 1)
        print(f"python -m core.clean: {one:.1f} s for the scan, {many:.1f} s for {CLI_COPIES} copies: "
              f"{cli_page:.2f} s per page once loaded\n")
    print("| N | completed | clean A4 p50 s | clean A4 slowest s | from upload p50 s | drag move p50 ms "
          "| drag move p95 ms | server peak RSS MB | wall s | server CPU s | browsers + rest CPU s "
          "| load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    single_app = []
    for n in args.sessions:
        with serve_app() as (url, proc):  # a fresh server per level, so peak RSS belongs to that level
            rss = PeakRSS(proc.pid)
            rss.start()
            if args.warm:
                asyncio.run(run_level(url, 1, scan, None, chromium))
            start, server0, machine0 = time.perf_counter(), cpu_seconds(proc.pid), cpu_seconds()
            results = asyncio.run(run_level(url, n, scan, poster, chromium, not args.no_drag))
            wall = time.perf_counter() - start
            server_cpu = cpu_seconds(proc.pid) - server0
            other_cpu = cpu_seconds() - machine0 - server_cpu
            rss.running = False
            rss.join()
        ok = [r for r in results if r["ok"]]
        docs = [r["documents_s"] for r in ok]
        moves = [m * 1000 for r in ok for m in r["moves_s"]]
        ups = [r["from_upload_s"] for r in ok]
        drags = f"{percentile(moves, 50):.0f} | {percentile(moves, 95):.0f}" if moves else "– | –"
        cells = (f"{percentile(docs, 50):.1f} | {max(docs):.1f} | {percentile(ups, 50):.1f} | {drags}"
                 if ok else "– | – | – | – | –")
        print(f"| {n} | {len(ok)}/{n} | {cells} | {rss.peak_mb:.0f} | {wall:.0f} | {server_cpu:.0f} | {other_cpu:.0f} "
              f"| {os.getloadavg()[0]:.1f} |", flush=True)
        if n == 1 and ok:
            single_app.append(ups[0])
        for r in results:
            if not r["ok"]:
                print(f"  failed session: {r['error']}")

    if cli_page and single_app:
        app = statistics.median(single_app)
        print(f"\nOne page, app from the upload (median of {len(single_app)}) / CLI per page: {app:.2f} / "
              f"{cli_page:.2f} s = {app / cli_page:.2f}× (target ≤ 1.5×)")


if __name__ == "__main__":
    main()
