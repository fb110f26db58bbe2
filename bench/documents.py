"""Whole-page document cleaning on this machine: seconds and peak memory per page size, time vs pixels.

Run: python bench/documents.py [--threads 2] [--repeats 3] [--sizes]. Each size runs in a fresh process (so
its peak RSS is its own) limited to ``--threads`` CPU threads; prints a Markdown table and the fitted seconds
per megapixel, for the cleaned page in both output modes (gray and black & white); then a 600 dpi text page,
which is cleaned shrunk. Target: A4 at 300 dpi (2480 x 3508) under 5 s on 2 cores, under ~2 GB. With ``--sizes``
it also prints the download sizes of one A4 page (a generated text page, and the same page degraded) in both
modes, as PNG and as PDF.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = {  # name -> (height, width); uniform noise, the worst case for the black & white mode's labelling
    "Kaggle page 540x420": (420, 540),
    "A4 150 dpi 1240x1754": (1754, 1240),
    "A4 200 dpi 1654x2339": (2339, 1654),
    "A4 300 dpi 2480x3508": (3508, 2480),
}
# A generated text page at 600 dpi: its strokes (9.3 px) are wider than any the cleaner trained on, so it is
# cleaned 1.55 times smaller (core/documents/strokes.py); timed apart, off the seconds-per-megapixel line.
FINE = ("A4 600 dpi text page 4961x7016", (7016, 4961))

CHILD = """
import json, resource, statistics, sys, time
import numpy as np
import tensorflow as tf
threads = int(sys.argv[3])
tf.config.threading.set_intra_op_parallelism_threads(threads)
tf.config.threading.set_inter_op_parallelism_threads(1)
from core.inference import load_model
from core.serving.documents import clean_both
h, w, repeats, text = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[4]), sys.argv[5] == "text"
model = load_model("documents")
page = np.random.default_rng(0).random((h, w), dtype=np.float32)
if text:
    from core.documents.synth import bundled_fonts, render_page
    page = render_page(np.random.default_rng(1), (h, w), dpi=600, fonts=bundled_fonts()).image.astype(np.float32)
    page *= 0.75 / 255  # float32 throughout: the page, not its making, should set the peak memory
    page += 0.1 + 0.03 * np.random.default_rng(2).standard_normal((h, w), dtype=np.float32)
    np.clip(page, 0, 1, out=page)
clean_both(model, page[:256, :256])  # warm-up: first-call overheads are not per page
times = []
for _ in range(repeats):
    t = time.perf_counter()
    clean_both(model, page)  # both output modes, as the page and the CLI make them
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds": statistics.median(times),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(h: int, w: int, threads: int, repeats: int, text: bool = False) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(h), str(w), str(threads), str(repeats),
                          "text" if text else "noise"], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def output_sizes() -> None:
    """Download sizes of one A4 page (clean text, and degraded) at 150 and 300 dpi, as the app writes them."""
    from PIL import Image

    from core.documents.degrade import degrade
    from core.documents.synth import bundled_fonts, render_page
    from core.imageio import open_upload
    from core.inference import load_model
    from core.render import png_bytes
    from core.serving.documents import clean_page, pdf_bytes

    model = load_model("documents")
    print("\n| A4 page | PNG gray | PNG black & white | PDF gray | PDF black & white |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label in ("text page", "degraded page"):
        for dpi in (150, 300):
            size = (round(297 / 25.4 * dpi), round(210 / 25.4 * dpi))
            page = render_page(np.random.default_rng(1), size, dpi=dpi, fonts=bundled_fonts()).image
            if label == "degraded page":
                page = degrade(page, np.random.default_rng(2))
            with open_upload(png_bytes(Image.fromarray(page, "L")), "a4.png", dpi) as upload:
                cleaned = clean_page(model, upload, 0)
            outputs = (cleaned.png("gray"), cleaned.png("bw"), pdf_bytes([cleaned]), pdf_bytes([cleaned], "bw"))
            kb = [len(b) / 1000 for b in outputs]
            print(f"| {label}, {dpi} dpi | " + " | ".join(f"{k:.0f} kB" for k in kb[:3]) + f" | **{kb[3]:.0f} kB** |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", action="store_true", help="also print the download sizes of one A4 page")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = []
    print(f"threads {args.threads}, {os.cpu_count()} CPUs, load average at start {load:.1f}\n")
    print("| page | megapixels | seconds | s / MP | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (h, w) in SIZES.items():
        r = measure(h, w, args.threads, args.repeats)
        mp = h * w / 1e6
        rows.append((mp, r["seconds"]))
        print(f"| {name} | {mp:.2f} | {r['seconds']:.2f} | {r['seconds'] / mp:.2f} | {r['peak_rss_mb']:.0f} |",
              flush=True)
    # Least-squares line through the sizes: fixed overhead + seconds per megapixel.
    n = len(rows)
    mx, my = sum(m for m, _ in rows) / n, sum(s for _, s in rows) / n
    slope = sum((m - mx) * (s - my) for m, s in rows) / sum((m - mx) ** 2 for m, _ in rows)
    name, (h, w) = FINE
    r = measure(h, w, args.threads, args.repeats, text=True)
    print(f"| {name} | {h * w / 1e6:.2f} | {r['seconds']:.2f} | {r['seconds'] / (h * w / 1e6):.2f} | "
          f"{r['peak_rss_mb']:.0f} |", flush=True)
    print(f"\ntime ≈ {my - slope * mx:.2f} s + {slope:.2f} s per megapixel, noise pages "
          f"(load average at end {os.getloadavg()[0]:.1f})")
    if args.sizes:
        output_sizes()


if __name__ == "__main__":
    main()
