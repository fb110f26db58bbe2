"""Memory and time bounds of hostile or archive-size inputs (issue 35), each in a fresh process (peak RSS from
/proc VmHWM, wall time from launch to exit, model load included where a model runs).

Run: python bench/bounds.py [--skip-book] [--book-pages 300]. Prints a Markdown table; targets: Denoise upload
< 1 GB for any accepted image, one PDF page < 1.5 GB and < 60 s, a 100,000-page TIFF refused < 2 s, a 300-page
PDF through the CLI < 2 GB. Files are crafted in a temporary folder; not part of the test suite (CPU-minutes).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PEAK = "print('PEAK', [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
DENOISE = """
import io, sys
import numpy as np
from PIL import Image
from core.imageio import open_upload, shrink, to_fashion_item
data = open(sys.argv[1], 'rb').read()
with open_upload(data, 'x') as upload:  # what pages/denoise.py does with an upload
    page = upload.page(0)
item = to_fashion_item(shrink(page.image))
""" + PEAK
REFUSE = """
import sys
from core.imageio import InputError, open_upload
try:
    open_upload(open(sys.argv[1], 'rb').read(), sys.argv[1].rsplit('/', 1)[-1])
except InputError as e:
    print(str(e)[:60])
""" + PEAK
CLI = """
import sys
from core.clean import main
main(sys.argv[1:])
""" + PEAK


def measure(code: str, *args: str) -> tuple[float, float, str]:
    """(peak MB, seconds, last output line) of ``python -c code args`` in a fresh process."""
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = next((int(line.split()[1]) / 1024 for line in run.stdout.splitlines() if line.startswith("PEAK")), -1)
    noise = ("PEAK", "I0000", "W0000", "WARNING", "To enable")  # TensorFlow's start-up lines
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line and not line.startswith(noise)]
    return peak, seconds, (lines[-1] if lines else f"exit {run.returncode}")[:90]


def craft(folder: Path, book_pages: int) -> dict[str, Path]:
    import numpy as np
    import pikepdf
    from PIL import Image

    from core.documents.pairs import sample_pages
    from tests.test_no_loss import hidden_bomb, many_page_tiff

    files = {}

    def save(name: str, image: Image.Image, **kw) -> None:
        files[name] = folder / name
        image.save(files[name], **kw)

    save("strip-1x100000.png", Image.new("L", (1, 100_000), 255))
    save("screenshot-1080x20000.png", Image.new("RGB", (1080, 20_000), (250, 250, 250)))
    # the largest accepted pictures (39.96 megapixels; flat, so they fit in 50 MB), in the costliest modes
    save("rgba-40mp.png", Image.new("RGBA", (9990, 4000), (200, 120, 40, 128)))
    save("gray16-40mp.png", Image.fromarray(np.full((4000, 9990), 40000, np.uint16)))
    files["tiff-100000-pages.tif"] = folder / "tiff-100000-pages.tif"
    files["tiff-100000-pages.tif"].write_bytes(many_page_tiff(100_000))
    files["annotation-bomb.pdf"] = folder / "annotation-bomb.pdf"
    files["annotation-bomb.pdf"].write_bytes(hidden_bomb("annotation"))
    # One PDF page of 39.7 megapixels at 300 dpi (21 × 21 inches), drawing a scan of 6300² pixels.
    scan = Image.fromarray(sample_pages(1, size=(1754, 1240))[0].noisy, "L").resize((6300, 6300))
    save("page-40mp.pdf", scan, resolution=300)
    page = Image.fromarray(sample_pages(1, size=(842, 595))[0].noisy, "L")
    book = folder / "book.pdf"
    page.save(book, resolution=72)
    pdf = pikepdf.open(book, allow_overwriting_input=True)
    for _ in range(book_pages - 1):
        pdf.pages.append(pdf.pages[0])
    pdf.save(book)
    files[f"book-{book_pages}-pages.pdf"] = book
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--book-pages", type=int, default=300)
    parser.add_argument("--skip-book", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bounds-") as tmp:
        files = craft(Path(tmp), args.book_pages)
        out = str(Path(tmp, "out"))
        for name in ["strip-1x100000.png", "screenshot-1080x20000.png", "rgba-40mp.png", "gray16-40mp.png"]:
            rows.append(("Denoise upload", name, *measure(DENOISE, str(files[name]))))
        rows.append(("upload refused", "tiff-100000-pages.tif", *measure(REFUSE, str(files["tiff-100000-pages.tif"]))))
        rows.append(("upload refused", "annotation-bomb.pdf", *measure(REFUSE, str(files["annotation-bomb.pdf"]))))
        rows.append(("CLI, 300 dpi", "page-40mp.pdf", *measure(CLI, str(files["page-40mp.pdf"]), "--out", out,
                                                                "--quiet", "--pdf-dpi", "300")))
        if not args.skip_book:
            name = f"book-{args.book_pages}-pages.pdf"
            rows.append(("CLI, 72 dpi", name, *measure(CLI, str(files[name]), "--out", out, "--quiet",
                                                       "--pdf-dpi", "72")))
    print("| what | file | peak RSS | wall | last line |\n|---|---|---|---|---|")
    for what, name, peak, seconds, line in rows:
        print(f"| {what} | `{name}` | {peak:.0f} MB | {seconds:.1f} s | {line} |")


if __name__ == "__main__":
    main()
