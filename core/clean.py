"""The batch command line for document cleaning: files or folders in, cleaned PNG pages out; the cleaning
itself is core.serving.documents.

    python -m core.clean INPUT... --out DIR [--mode gray|bw]   # files or folders; PNG out; bad files skipped
    python -m core.clean INPUT... --out DIR --pdf [--ocr] [--deskew]   # also NAME.pdf (searchable), NAME.txt
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from core.serving.documents import MODES, clean_upload, output_name

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".gif", ".bmp", ".webp"}


def gather(inputs: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus files with an image/PDF suffix inside named folders (recursively)."""
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            files.append(item)
    return files


def _bar(done: float, total: int, label: str) -> None:
    filled = int(30 * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {int(done)}/{total} {label[:40]:<40}")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    from core.imageio import InputError, display_name
    from core.limits import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, PDF_DPI_DEFAULT, describe

    parser = argparse.ArgumentParser(prog="python -m core.clean", description=__doc__, epilog=f"Limits: {describe()}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="image/PDF files or folders")
    parser.add_argument("--out", required=True, type=Path, help="folder for the cleaned PNG pages")
    parser.add_argument("--mode", choices=list(MODES), default="gray",
                        help="gray: the cleaned page (default); bw: black & white (1-bit PNG)")
    parser.add_argument("--pdf-dpi", type=int, default=PDF_DPI_DEFAULT, help="resolution for rasterising PDF pages")
    parser.add_argument("--model", type=Path, help="a .keras file with its card (default: weights/documents.keras)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                        help="clean on Ray Data (pip install -r requirements-archive.txt): an embedded local Ray, or "
                             "the cluster at ADDRESS (or RAY_ADDRESS); --out may then be a URI, e.g. s3://bucket/out")
    parser.add_argument("--gpus-per-worker", type=float, default=0, help="with --ray: GPUs per cleaning worker")
    parser.add_argument("--pdf", action="store_true", help="also one PDF per input file (NAME.pdf, pages in order)")
    parser.add_argument("--ocr", action="store_true", help="read the text: a searchable PDF and NAME.txt per file")
    parser.add_argument("--deskew", action="store_true",
                        help="turn pages upright and straighten skewed ones before cleaning (pages without text stay)")
    args = parser.parse_args(argv)
    if args.ray is not None:  # the only path that imports Ray
        from core.archive import run
        return run(args)

    from core.inference import WeightsError, load_model
    from core.searchable_pdf import document_files

    try:
        model = load_model("documents", args.model)
    except WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = gather(args.inputs)
    args.out.mkdir(parents=True, exist_ok=True)
    failures, written, used, used_docs = [], 0, set(), set()
    for i, path in enumerate(files):
        name = display_name(str(path))
        bar = (lambda f, i=i, name=name: _bar(i + f, len(files), name)) if not args.quiet else None
        if bar:
            bar(0.0)
        pages_written = 0
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:  # refused before it is read into memory
                raise InputError(f"`{name}` is {path.stat().st_size / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB "
                                 "per file. Split it or reduce its resolution.")
            pages = []
            for page in clean_upload(model, path.read_bytes(), path.name, args.pdf_dpi, progress=bar,
                                     straighten=args.deskew, ocr=args.ocr):
                (args.out / output_name(page.source, page.index, page.count, used)).write_bytes(page.png(args.mode))
                page.pixels = None  # its PNG (and its text) is all a PDF needs
                if args.pdf or args.ocr:
                    pages.append(page)
                pages_written += 1
            for doc, data in document_files(pages, args.mode, args.pdf, args.ocr, used_docs):
                (args.out / doc).write_bytes(data)
        except (InputError, OSError) as e:
            kept = f" ({pages_written} page(s) written before)" if pages_written else ""
            failures.append(f"{name}: {e}{kept}")
        written += pages_written
    if not args.quiet:
        _bar(len(files), len(files), "done")
        sys.stderr.write("\n")
    for f in failures:
        print(f"skipped {f}", file=sys.stderr)
    print(f"{written} page(s) written to {args.out}; {len(failures)} file(s) skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
