"""OCR, straightening and searchable PDFs on this machine: the engines compared, skew and orientation, time and
memory of a whole A4 page, PDF sizes. Prints Markdown tables (docs/ocr.md holds the latest).

Run: python bench/ocr.py [engines] [orient] [speed] [sizes] [--pages N]. Targets (issue 34): text similarity
(1 - character error rate, whitespace collapsed) >= 0.95 on printed pages; skew after straightening <= 0.3° on
pages turned by ±1..±15°, quarter turns right on >= 98 % of pages, no page with text turned wrongly; A4 at 300
dpi cleaned + straightened + read in <= 8 s and < 2 GB on 2 cores; PDFs open in pypdf and pypdfium2.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.documents.ocr import cer  # noqa: E402
from core.documents.synth import bundled_fonts, render_page  # noqa: E402

A4_300 = (3508, 2480)
ANGLES = (1, 3, 7, 15)  # skews tried, each with a random sign
QUARTERS = (90, 180, 270)


def synthetic(n: int, size: tuple[int, int] = A4_300, dpi: int = 300, seed: int = 0) -> list:
    return [render_page(np.random.default_rng(seed + i), size, dpi=dpi, fonts=bundled_fonts()) for i in range(n)]


def real_pages(n: int) -> list:
    from core.documents.real import load_real_pairs

    return load_real_pairs()[:n]


def engines(n: int) -> None:
    """Both engines on synthetic pages with known text, and on real Kaggle pages (no text known: agreement)."""
    from core.ocr import available, read, text_of

    names = [e for e in ("rapidocr", "tesseract") if available(e)]
    rows = []
    for label, pages in (("synthetic A4 300 dpi", synthetic(n)),
                         ("synthetic A4 150 dpi", synthetic(n, (1754, 1240), 150, seed=100))):
        for engine in names:
            sims, secs = [], []
            for p in pages:
                t = time.perf_counter()
                text = text_of(read(p.image, engine))
                secs.append(time.perf_counter() - t)
                sims.append(1 - cer(text, p.text))
            rows.append((label, engine, f"{np.mean(sims):.4f} (min {min(sims):.4f})", f"{np.mean(secs):.2f}"))
    real = real_pages(n * 3)
    if real and len(names) == 2:
        texts = {e: [text_of(read(p.clean, e)) for p in real] for e in names}
        agree = [1 - cer(a, b) for a, b in zip(*texts.values())]
        rows.append((f"real Kaggle clean targets ({len(real)})", "rapidocr vs tesseract", f"{np.mean(agree):.4f} "
                     f"(min {min(agree):.4f})", "-"))
    print("| pages | engine | text similarity | s/page |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


# Kaggle page 101.png's text as printed (our transcription of its clean target; its last line, cut in half by
# the page's edge, left out); other Kaggle pages print the same text on other paper.
KAGGLE_101 = """There exist several methods to design fo
be filled in. For instance, fields may be surr
ing boxes, by light rectangles or by guiding ru
ods specify where to write and, therefore, m
of skew and overlapping with other parts of
guides can be located on a separate sheet
located below the form or they can be print
form. The use of guides on a separate she
from the point of view of the quality of th
but requires giving more instructions and,
restricts its use to tasks where this type of a"""


def real(n: int) -> None:
    """Real Kaggle scans printing page 101's text: each engine on the scan as it is, and RapidOCR on the page our
    cleaner made of it (straightened first), against the transcription."""
    from core.documents.real import load_real_pairs
    from core.documents.orient import straighten
    from core.imageio import gray_to_float
    from core.inference import load_model
    from core.ocr import available, read, text_of
    from core.render import to_uint8
    from core.serving.documents import clean_both

    pairs = load_real_pairs()
    ref = next(p for p in pairs if p.name == "101.png").clean.astype(np.float32)
    same = [p for p in pairs if p.clean.shape == ref.shape and np.corrcoef(p.clean.ravel(), ref.ravel())[0, 1] > 0.9]
    model = load_model("documents")
    cut = KAGGLE_101.count("\n") + 1  # lines of the transcription: the cut last line is not scored
    score = lambda text: 1 - cer("\n".join(text.splitlines()[:cut]), KAGGLE_101)  # noqa: E731
    print("| Kaggle page | rapidocr, scan | tesseract, scan | rapidocr, straightened + cleaned |\n|---|---|---|---|")
    for p in same[:n * 3]:
        cleaned = to_uint8(clean_both(model, gray_to_float(straighten(Image.fromarray(p.noisy))[0]))[0])
        tess = f"{score(text_of(read(p.noisy, 'tesseract'))):.4f}" if available("tesseract") else "-"
        print(f"| {p.name} | {score(text_of(read(p.noisy))):.4f} | {tess} | {score(text_of(read(cleaned))):.4f} |")


def orient(n: int) -> None:
    """Turn pages by known angles and quarter turns; how far from level and upright they come back."""
    from core.documents.orient import detect

    rng = np.random.default_rng(0)
    sets = {"synthetic A4 150 dpi": [Image.fromarray(p.image) for p in synthetic(n, (1754, 1240), 150, seed=200)]}
    real = real_pages(n * 2)
    if real:
        sets["real Kaggle scans (noisy)"] = [Image.fromarray(p.noisy) for p in real]
    print("| pages | turned by | pages | worst skew left | mean skew left | right way up | left alone | s/page |")
    print("|---|---|---|---|---|---|---|---|")
    for label, images in sets.items():
        for kind in ("skew ±1..±15°", "quarter turns"):
            errors, upright, alone, secs = [], 0, 0, []
            for image in images:
                for a in (ANGLES if kind.startswith("skew") else QUARTERS):
                    skew = a * rng.choice([-1, 1]) if kind.startswith("skew") else float(rng.uniform(-2, 2))
                    quarter = 0 if kind.startswith("skew") else a
                    page = image.rotate(skew, Image.Resampling.BICUBIC, fillcolor=255).rotate(quarter, expand=True)
                    t = time.perf_counter()
                    turn = detect(page)
                    secs.append(time.perf_counter() - t)
                    alone += not turn
                    err = (turn.angle + quarter + skew) % 360
                    err = min(err, 360 - err)
                    upright += err < 45
                    errors.append(err if err < 45 else np.nan)
            e = np.array(errors)
            print(f"| {label} | {kind} | {len(images)} × {len(e) // len(images)} | {np.nanmax(e):.2f}° | "
                  f"{np.nanmean(e):.3f}° | {upright}/{len(e)} | {alone} | {np.mean(secs):.2f} |")


CHILD = """
import json, os, resource, sys, time
import numpy as np
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
from PIL import Image
from core.documents.ocr import cer
from core.documents.synth import bundled_fonts, render_page
from core.documents.orient import straighten
from core.imageio import gray_to_float
from core.inference import load_model
from core.ocr import read, text_of
from core.render import to_uint8
from core.serving.documents import clean_both
model = load_model("documents")
read(np.full((64, 256), 255, np.uint8))  # loads the OCR models
clean_both(model, np.ones((256, 256), np.float32))
p = render_page(np.random.default_rng(int(sys.argv[1])), (3508, 2480), dpi=300, fonts=bundled_fonts())
scan = Image.fromarray(p.image).rotate(4.0, Image.Resampling.BICUBIC, fillcolor=255)
out, cpu, busiest = {}, {}, {}
def threads():  # CPU seconds of each of this process's threads
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[tid] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return found
def timed(name, f):
    t, c, before = time.perf_counter(), time.process_time(), threads()
    result = f()
    out[name], cpu[name] = time.perf_counter() - t, time.process_time() - c
    busiest[name] = max(v - before.get(k, 0.0) for k, v in threads().items())
    return result
page, turn = timed("straighten", lambda: straighten(scan))
gray = timed("clean", lambda: to_uint8(clean_both(model, gray_to_float(page))[0]))
text = timed("ocr", lambda: text_of(read(gray)))
out["cpu"], out["busiest"] = cpu, busiest
out["similarity"] = 1 - cer(text, p.text)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def speed(n: int) -> None:
    """A4 at 300 dpi, crooked by 4°: straighten, clean, read, each timed in a fresh process on 2 threads: wall seconds,
    CPU seconds (the process's, all its threads) and the busiest thread's. On a shared machine the wall clock counts
    the other jobs too; a quiet 2-core machine needs, per step, at least half the CPU seconds and at least the busiest
    thread's: the larger of the two, summed, is our estimate of its time (exact when the threads share the work)."""
    env = {**os.environ, "OMP_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    print("| page | straighten s (CPU s) | clean s (CPU s) | OCR s (CPU s) | total s (CPU s) | quiet 2-core estimate | "
          "peak RSS | text similarity | load average |")
    print("|---|---|---|---|---|---|---|---|---|")
    for seed in range(n):
        load = os.getloadavg()[0]
        out = subprocess.run([sys.executable, "-c", CHILD, str(seed)], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        steps = ("straighten", "clean", "ocr")
        stages = [f"{r[k]:.1f} ({r['cpu'][k]:.1f})" for k in steps]
        quiet = sum(max(r["cpu"][k] / 2, r["busiest"][k]) for k in steps)
        total = f"{sum(r[k] for k in steps):.1f} ({sum(r['cpu'].values()):.1f})"
        print(f"| {seed} | {' | '.join(stages)} | {total} | {quiet:.1f} s | {r['peak_rss_mb']:.0f} MB | "
              f"{r['similarity']:.4f} | {load:.1f}–{os.getloadavg()[0]:.1f} |")


def sizes(n: int) -> None:
    """Searchable PDFs of A4 pages, gray and 1-bit: bytes, and the text as pypdf and pypdfium2 extract it."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    from core.searchable_pdf import document
    from core.serving.documents import CleanedPage, pdf_bytes

    print("| page | mode | PDF without text | searchable PDF | pypdf similarity | pypdfium2 similarity |")
    print("|---|---|---|---|---|---|")
    for dpi, size in ((150, (1754, 1240)), (300, A4_300)):
        for p in synthetic(n, size, dpi, seed=300):
            bits = np.packbits(p.image > 127, axis=1)
            for mode in ("gray", "bw"):
                page = CleanedPage("page.png", 0, 1, (size[1], size[0]), dpi, pixels=(p.image, bits))
                plain = pdf_bytes([page], mode)
                pdf, _ = document([page], mode)
                a = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
                b = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
                print(f"| A4 {dpi} dpi | {mode} | {len(plain) / 1024:.0f} kB | {len(pdf) / 1024:.0f} kB | "
                      f"{1 - cer(a, p.text):.4f} | {1 - cer(b, p.text):.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["engines", "real", "orient", "speed", "sizes"])
    parser.add_argument("--pages", type=int, default=3, help="pages per set")
    args = parser.parse_args()
    for part in args.parts:
        print(f"\n### {part}  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)\n", flush=True)
        {"engines": engines, "real": real, "orient": orient, "speed": speed, "sizes": sizes}[part](args.pages)


if __name__ == "__main__":
    main()
