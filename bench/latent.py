"""Latent explorer latency: server-side decode of one point, and pointer move -> painted image in Chromium.

Run: python bench/latent.py [--repeats 500] [--moves 120]. Prints a Markdown table (milliseconds).
Server: the shipped decoder on one point, called directly — the page's path (the ONNX export run by
onnxruntime on one thread), one traced tf.function (the page's fallback), the Keras model called directly, and
``predict`` for contrast; back to back, and "as in the app": a pause and Streamlit's post-run
``keras.backend.clear_session()`` before each call; and a 12×12 manifold grid. End to end: the app on a
free localhost port, headless Debian Chromium holding the mouse button down on the point and moving
it ``--moves`` times; for each move the pad records the time from the pointermove event to the frame
after the new item is drawn (``window.latentPad.latencies``, in the browser's clock), and this script
also times each move from Playwright's side (including its own round trips to the browser). Twice: with
the pad decoding in the browser (what users get), and with its weights blocked so the server decodes (the
fallback). The browser run also reports decoder.js alone and the server round trip that mirrors the point
into the z inputs while dragging.

Own garment (``--uploads``): on the server, a 3000 × 4000 JPEG product shot decoded and checked
(core.garment.open_garment), prepared (prepare_garment), encoded with its fit (GarmentReader) and its 25
variations decoded; in Chromium, the time from handing the page a photo to its prepared item, reconstruction,
variations and nearest real items all painted (the page's full rerun included), after a first upload that
also loads the encoder (reported apart).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.config import VAE_RENDERER, weight_path  # noqa: E402
from core.inference import load_model  # noqa: E402
from core.serving.vae import LatentDecoder, fast_decoder  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, open_latent_pad, serve_app  # noqa: E402
from tests.test_garment import png, product_shot  # noqa: E402


def percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def time_calls(fn, points: np.ndarray, between=None) -> list[float]:
    """Milliseconds of ``fn(z)`` per point after two warm-up calls; ``between()`` runs before each call."""
    fn(points[:1])
    fn(points[1:2])
    out = []
    for z in points:
        if between:
            between()
        t = time.perf_counter()
        fn(z[None])
        out.append((time.perf_counter() - t) * 1000)
    return out


def streamlit_between_runs(pause_s: float):
    """What happens between two drag steps in the app: idle time, then Streamlit's post-run
    ``keras.backend.clear_session()`` (it clears TensorFlow's kernel caches; its gc is left out here)."""
    import keras

    def between() -> None:
        time.sleep(pause_s)
        keras.backend.clear_session(free_memory=False)

    return between


def server_latency(repeats: int, pause_s: float) -> dict[str, list[float]]:
    decoder = load_model(VAE_RENDERER)  # the network that draws the map
    fast, traced = fast_decoder(weight_path(VAE_RENDERER))[0], LatentDecoder(decoder)
    points = np.random.default_rng(0).normal(0, 2, (repeats, 2)).astype(np.float32)
    grid = np.random.default_rng(1).normal(0, 2, (1, 144, 2)).astype(np.float32)
    app_like = streamlit_between_runs(pause_s)
    return {
        f"server decode, page path ({fast.backend}), as in the app": time_calls(fast, points, app_like),
        "server decode, traced tf.function, as in the app": time_calls(traced, points, app_like),
        f"server decode, page path ({fast.backend}), back to back": time_calls(fast, points),
        "server decode, traced tf.function, back to back": time_calls(traced, points),
        f"server decode of a 12×12 grid, page path ({fast.backend})": time_calls(lambda z: fast(z[0]),
                                                                                  np.repeat(grid, 20, 0)),
        "server decode, decoder(z, training=False), back to back": time_calls(
            lambda z: decoder(z, training=False).numpy(), points),
        "server decode, model.predict (contrast)": time_calls(lambda z: decoder.predict(z, verbose=0),
                                                              points[: max(repeats // 10, 20)]),
    }


def drag(page, url: str, moves: int, decodes: str, radius: float = 90.0) -> dict[str, list[float]]:
    """Hold the button on the point and spiral it out in ``moves`` steps; the pad's own timings per move."""
    # "server": the decoder's weights are blocked, the pad's fallback
    frame, marker = open_latent_pad(page, url, decodes=decodes, timeout_ms=180_000)
    box = marker.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    driver = []
    for i in range(1, moves + 1):
        # A spiral out from the start: every move lands on a new point, so every paint is a new item.
        angle, r = 0.35 * i, radius * i / moves
        done = frame.evaluate("window.latentPad.latencies.length")
        t = time.perf_counter()
        page.mouse.move(cx + r * math.cos(angle), cy - r * math.sin(angle))
        frame.wait_for_function("n => window.latentPad.latencies.length > n", arg=done, timeout=60_000)
        driver.append((time.perf_counter() - t) * 1000)
    page.mouse.up()
    frame.wait_for_function("!window.latentPad.busy", timeout=60_000)
    pad = frame.evaluate("({latencies: window.latentPad.latencies, roundTrips: window.latentPad.roundTrips,"
                         " decodes: window.latentPad.decodes})")
    assert pad["decodes"] == decodes, pad["decodes"]
    rows = {
        f"end to end, {decodes} decodes: pointermove -> painted (browser clock)": pad["latencies"],
        f"end to end, {decodes} decodes: as Playwright sees it": driver,
    }
    if decodes == "browser":
        rows["browser decode of one point (decoder.js), back to back"] = frame.evaluate(
            """n => { const out = [];
                      for (let i = 0; i < n; i++) { const t = performance.now();
                        window.latentPad.decode([Math.sin(i) * 2, Math.cos(i) * 2]); out.push(performance.now() - t); }
                      return out; }""", moves)
        rows["while dragging: pointermove -> server reply (z inputs mirror)"] = pad["roundTrips"]
    return rows


def end_to_end(moves: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    rows = {}
    with serve_app() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for decodes in ("browser", "server"):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            rows |= drag(context.new_page(), url, moves, decodes)
            context.close()
        browser.close()
    return rows


def photos(n: int, scale: int = 12) -> list[tuple[str, bytes]]:
    """n product shots (PNG) of real test items, one of each class in turn, at ``scale`` × their 28 pixels."""
    from core.data import load_test_set

    test = load_test_set()
    images = test.images.reshape(-1, 28, 28)
    picks = [int(np.flatnonzero(test.labels == k % 10)[k // 10]) for k in range(n)]
    return [(f"garment_{i}.png", png(product_shot(images[i], scale, (28 * scale + 200, 28 * scale + 100),
                                                  (100, 50)))) for i in picks]


def garment_server(n: int) -> dict[str, list[float]]:
    """Milliseconds per photo of each step the page takes on an upload, on the server."""
    import io

    from PIL import Image

    from core import config
    from core.garment import open_garment
    from core.serving.garment import GarmentReader, nearest_items, variation_points
    from core.serving.vae import load_embedding, prepare_garment
    from core.serving.vae_prior import load_prior

    reader = GarmentReader(load_model(config.VAE_ENCODER), load_model(config.VAE_DECODER),
                           load_prior(config.VAE_PRIOR_PATH))
    fast, embedding = fast_decoder(weight_path(VAE_RENDERER))[0], load_embedding(config.VAE_EMBEDDING_PATH)
    jpegs = []
    for _, data in photos(n, scale=120):  # 3560 × 3460 pixels
        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=90)
        jpegs.append(buf.getvalue())
    reader(np.zeros((28, 28), np.float32))
    rows = {k: [] for k in ("decode + check", "prepare", "encode + fit", "variations + nearest", "all")}
    for data in jpegs:
        t0 = time.perf_counter()
        photo = open_garment(data, "photo.jpg")
        t1 = time.perf_counter()
        item = prepare_garment(photo)
        t2 = time.perf_counter()
        fit = reader(item)
        t3 = time.perf_counter()
        fast(variation_points(fit.z, 0.4)), nearest_items(embedding, fit.z, 8)
        t4 = time.perf_counter()
        for key, ms in zip(rows, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
            rows[key].append(ms * 1000)
    return {f"own garment on the server, 3.5k × 3.5k JPEG: {k}": v for k, v in rows.items()}


def garment_browser(page, url: str, n: int) -> dict[str, list[float]]:
    """Upload -> prepared item, reconstruction, variations and nearest items painted, in Chromium (ms)."""
    open_latent_pad(page, url, timeout_ms=180_000)
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    main = page.locator('[data-testid="stMain"]')
    painted = ("() => { const imgs = [...document.querySelectorAll('[data-testid=\"stMain\"] img')];"
               " return imgs.length >= 7 && imgs.every(i => i.complete && i.naturalWidth > 0); }")
    times = []
    for name, data in photos(n + 1):
        t = time.perf_counter()
        uploader.set_input_files({"name": name, "mimeType": "image/png", "buffer": data})
        main.get_by_text(f"Your upload: {name}").wait_for(timeout=180_000)
        main.get_by_text("Nearest real items").wait_for(timeout=60_000)
        page.wait_for_function(painted, timeout=60_000)
        times.append((time.perf_counter() - t) * 1000)
    return {"own garment in Chromium: first upload (loads the encoder)": times[:1],
            "own garment in Chromium: upload -> item, fit, variations, nearest painted": times[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=500, help="single-point decodes per server variant")
    parser.add_argument("--moves", type=int, default=120, help="pointer moves in the browser (>= 100)")
    parser.add_argument("--pause-ms", type=float, default=30.0, help="idle time between app-like server decodes")
    parser.add_argument("--uploads", type=int, default=10, help="garment photos uploaded (0: none)")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only-garment", action="store_true", help="only the own-garment timings")
    args = parser.parse_args()
    rows = {} if args.only_garment else server_latency(args.repeats, args.pause_ms / 1000)
    if args.uploads:
        rows |= garment_server(args.uploads)
    if not args.skip_browser and not args.only_garment:
        rows |= end_to_end(args.moves)
    if not args.skip_browser and args.uploads:
        from playwright.sync_api import sync_playwright

        with serve_app() as (url, _), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            rows |= garment_browser(browser.new_page(viewport={"width": 1400, "height": 1000}), url, args.uploads)
            browser.close()
    print("| measurement | p50 ms | p95 ms | n |")
    print("|---|---|---|---|")
    for name, ms in rows.items():
        p50, p95 = percentiles(ms)
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {len(ms)} |")
    garment = rows.get("own garment in Chromium: upload -> item, fit, variations, nearest painted")
    if garment:
        print(f"\nown garment, upload to painted: p95 {percentiles(garment)[1]:.0f} ms; target < 1000 ms: "
              f"{'met' if percentiles(garment)[1] < 1000 else 'NOT met'}")
    browser = rows.get("end to end, browser decodes: pointermove -> painted (browser clock)")
    server = rows.get("end to end, server decodes: pointermove -> painted (browser clock)")
    if browser and server:
        b50, b95 = percentiles(browser)
        s50, s95 = percentiles(server)
        print(f"\nserver fallback / browser decoding, end to end: p50 {s50 / b50:.1f}×, p95 {s95 / b95:.1f}×; "
              f"target p95 < 100 ms: {'met' if b95 < 100 else 'NOT met'} ({b95:.1f} ms)")


if __name__ == "__main__":
    main()
