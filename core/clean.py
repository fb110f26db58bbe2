"""The batch command line for document cleaning: files or folders in, cleaned PNG pages out; the cleaning
itself is core.serving.documents, the names core.naming, the writes core.atomic.

    python -m core.clean INPUT... --out DIR [--mode gray|bw]   # files or folders; PNG out; bad pages skipped
    python -m core.clean INPUT... --out DIR --pdf [--ocr] [--deskew]   # also NAME.pdf (searchable), NAME.txt

Any file size and page count, one page in memory at a time (with --pdf or --ocr a document's encoded pages are
kept for its PDF and text); sub-folders are kept under DIR; inputs are never written (an output that would
replace an input gets another name) and DIR is never read as input.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from core.imageio import display_name
from core.serving.documents import MODES, clean_upload
from core.naming import SUFFIXES, NamePlan, inside, out_is_input_folder, page_name, safe_folder, skip_when_walking


class UsageError(ValueError):
    """A command line that cannot run (e.g. ``--out`` is a file); the message is one line for people."""


def gather(inputs: Iterable[str | Path], out: Path | None = None) -> list[tuple[Path, str]]:
    """(file, output folder relative to ``out``) for the files named directly, plus files with an image/PDF
    suffix inside named folders (recursively, keeping their sub-folders), never any under ``out``."""
    files: dict[Path, str] = {}
    dest = str(out.resolve()) if out else None
    folders = [str(Path(i).resolve()) for i in inputs if Path(i).is_dir()]
    if dest and out_is_input_folder(folders, dest):
        raise UsageError(f"--out {out} is also an input folder, so its cleaned pages would be read as inputs "
                         f"next time: choose another folder (e.g. {Path(out, 'cleaned')}).")
    for item in map(Path, inputs):
        if not item.is_dir():
            files.setdefault(item, "")
            continue
        root = item.resolve()
        skip = skip_when_walking(str(root), dest) if dest else None
        for p in sorted(item.rglob("*")):
            if p.is_file() and p.suffix.lower() in SUFFIXES and not (skip and inside(str(p.resolve()), skip)):
                folder = p.parent.relative_to(item).as_posix()
                files.setdefault(p, "" if folder == "." else folder)
    return list(files.items())


def plan_outputs(files: list[tuple[Path, str]], out: Path) -> list[tuple[str, str]]:
    """(output folder, document stem) per file, in order: unique case-insensitively, never an input's name."""
    plan, dest = NamePlan(), out.resolve()
    for path, _ in files:
        parent = path.resolve().parent
        if inside(str(parent), str(dest)):  # an input inside the output folder keeps its name to itself
            plan.reserve(safe_folder(parent.relative_to(dest).as_posix()), path.name)
    return [(safe_folder(folder), plan.claim(safe_folder(folder), path.name)) for path, folder in files]


def check_out(out: Path) -> None:
    """``UsageError`` unless ``out`` is (or can be made) a folder."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder: name a folder for the cleaned pages.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {out}: the folder cannot be made ({e.strerror or e}).") from None


def _bar(done: float, total: int, label: str) -> None:
    filled = int(30 * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {int(done)}/{total} {label[:40]:<40}")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    from core.limits import PDF_DPI_DEFAULT, describe_archive

    parser = argparse.ArgumentParser(prog="python -m core.clean", description=__doc__,
                                     epilog=f"Limits: {describe_archive()}",
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
    try:
        if args.ray is not None:  # the only path that imports Ray
            from core.archive import run
            return run(args)
        check_out(args.out)
        files = gather(args.inputs, args.out)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    from core.inference import WeightsError, load_model

    try:
        model = load_model("documents", args.model)
    except WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failures, written = [], 0
    for i, ((path, _), (folder, stem)) in enumerate(zip(files, plan_outputs(files, args.out))):
        name = display_name(str(path))
        bar = (lambda f, i=i, name=name: _bar(i + f, len(files), name)) if not args.quiet else None
        if bar:
            bar(0.0)
        written += _clean_file(model, path, args.out / folder, stem, args, bar, failures)
    if not args.quiet:
        _bar(len(files), len(files), "done")
        sys.stderr.write("\n")
    for f in failures:
        print(f"skipped {f}", file=sys.stderr)
    print(f"{written} page(s) written to {args.out}; {len(failures)} file(s) or page(s) skipped")
    return 1 if failures else 0


def _clean_file(model, path: Path, folder: Path, stem: str, args: argparse.Namespace, bar, failures: list[str]
                ) -> int:
    """Clean one file into ``folder`` page by page, then its ``stem.pdf``/``stem.txt`` when asked (from the pages
    cleaned); its bad pages and failed writes go to ``failures`` (``path page n: message``); returns the pages
    written."""
    from core.atomic import WriteError, write_file
    from core.imageio import InputError
    from core.searchable_pdf import document_files

    written, kept = 0, []
    try:
        data = path.read_bytes()
    except OSError as e:
        failures.append(f"{path}: {read_error(path.name, e)}")
        return 0
    pages = clean_upload(model, data, path.name, args.pdf_dpi, progress=bar, whole=False,
                         on_error=lambda i, e: failures.append(f"{path}: {e}"),  # the message names the page
                         straighten=args.deskew, ocr=args.ocr)
    try:
        for page in pages:
            try:
                write_file(folder / page_name(stem, page.index, page.count), page.png(args.mode))
                written += 1
            except WriteError as e:
                failures.append(f"{path}: page {page.index + 1}: {e}" if page.count > 1 else f"{path}: {e}")
            if args.pdf or args.ocr:  # only its PNG and text stay in memory for the document's files
                page.pixels = None
                kept.append(page)
    except InputError as e:  # the file as a whole (not readable, not a PDF or image)
        failures.append(f"{path}: {e}")
    try:
        for name, content in document_files(kept, stem, args.mode, args.pdf, args.ocr):
            write_file(folder / name, content)
    except WriteError as e:
        failures.append(f"{path}: {e}")
    return written


def read_error(name: str, error: OSError) -> str:
    """The message for an input that cannot be read, the same in both command-line paths."""
    from core.imageio import display_name

    return f"`{display_name(name)}` could not be read: {error.strerror or error}"


if __name__ == "__main__":
    sys.exit(main())
