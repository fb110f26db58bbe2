"""Archive cleaning throughput: the plain CLI against ``--ray`` with 1 and 2 workers, A4 at 150 and 300 dpi.

Run: python bench/archive.py [--pages 40] [--dpi 150 300] [--workers 1 2]. Writes synthetic degraded A4
pages (core.documents.pairs) into a temporary folder, half as PNG files and half inside 10-page PDFs,
then cleans them end to end, each run in a fresh process (model load, Ray start and actor start
included). Prints a Markdown table: pages each Ray worker cleaned, wall time, pages per minute, the
seconds a worker spent per page (decode, clean, encode, write; from the manifest), the start-up (launch
to the first page begun: Ray, the driver's model check, actors loading TensorFlow and the model) and
Ray's overhead per page once running: (first page begun to last page written) × workers / pages, minus
the worker's seconds (splitting, scheduling, moving rows, and workers idle while others start late or
finish the tail).
A Ray run with k workers is a local Ray with k CPUs; each worker runs TensorFlow on 1 thread, while the
plain CLI uses every core. Needs requirements-archive.txt. Not part of the test suite (CPU-minutes).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from core.documents.pairs import sample_pages  # noqa: E402

A4_MM = (210, 297)
PDF_PAGES = 10  # pages per PDF file
DISTINCT = 4  # different generated pages, repeated to make up the count (generation is slow at 300 dpi)
RAY_CHILD = """
import logging, sys, ray
ray.init(num_cpus=int(sys.argv[1]), include_dashboard=False, logging_level=logging.WARNING)
from core.clean import main
sys.exit(main(sys.argv[2:]))
"""


def make_pages(folder: Path, n: int, dpi: int) -> None:
    """``n`` degraded A4 pages at ``dpi``: half as PNG files, the rest in PDFs of ``PDF_PAGES`` pages."""
    w, h = (round(mm / 25.4 * dpi) for mm in A4_MM)
    pages = [Image.fromarray(p.noisy, "L") for p in sample_pages(min(n, DISTINCT), size=(h, w))]
    cycle = [pages[i % len(pages)] for i in range(n)]
    pngs, rest = cycle[: n // 2], cycle[n // 2:]
    for i, page in enumerate(pngs):
        page.save(folder / f"scan{i + 1:03d}.png", dpi=(dpi, dpi))
    for k in range(0, len(rest), PDF_PAGES):
        part = rest[k:k + PDF_PAGES]
        part[0].save(folder / f"binder{k // PDF_PAGES + 1:02d}.pdf", "PDF", save_all=True,
                     append_images=part[1:], resolution=dpi)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(start as Unix time, wall seconds) of a command that must succeed."""
    start, clock = time.time(), time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - clock
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])}... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return start, wall


def bench(dpi: int, n: int, workers: list[int], tmp: Path) -> list[dict]:
    pages = tmp / f"pages-{dpi}"
    pages.mkdir()
    make_pages(pages, n, dpi)
    args = [str(pages), "--pdf-dpi", str(dpi), "--quiet"]
    _, wall = timed([sys.executable, "-m", "core.clean", *args, "--out", str(tmp / f"plain-{dpi}")])
    rows = [{"run": "plain CLI", "wall": wall}]
    for k in workers:
        out = tmp / f"ray-{dpi}-{k}"
        launched, wall = timed([sys.executable, "-c", RAY_CHILD, str(k), *args, "--out", str(out), "--ray"])
        m = pd.read_parquet(out / "manifest.parquet")
        assert (m.status == "cleaned").sum() == n, m.status.value_counts()
        span = (m.started + m.seconds).max() - m.started.min()  # first page begun to last page written
        spread = "+".join(map(str, m.worker.value_counts()))  # pages each worker cleaned
        rows.append({"run": f"Ray, {k} worker{'s' if k > 1 else ''} ({spread} pages)", "wall": wall,
                     "worker": m.seconds.mean(), "startup": m.started.min() - launched,
                     "overhead": span * k / n - m.seconds.mean()})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=40, help="pages per resolution")
    parser.add_argument("--dpi", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray worker counts to run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}\n")
    print("| A4 dpi | run | pages | wall s | pages/min | worker s/page | start-up s | Ray overhead s/page |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        for dpi in args.dpi:
            for r in bench(dpi, args.pages, args.workers, Path(tmp)):
                ray = (f"{r['worker']:.2f} | {r['startup']:.1f} | {r['overhead']:.2f}" if "worker" in r
                       else "– | – | –")
                print(f"| {dpi} | {r['run']} | {args.pages} | {r['wall']:.1f} | {60 * args.pages / r['wall']:.1f} "
                      f"| {ray} |", flush=True)

if __name__ == "__main__":
    main()
