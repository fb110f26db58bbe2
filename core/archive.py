"""Cleaning a whole archive on Ray Data: ``python -m core.clean INPUT... --out DEST --ray [ADDRESS]``.

Without an address (and without ``RAY_ADDRESS``) an embedded Ray starts on this machine with all its
cores; with one, the same command runs on that cluster. The pipeline has two stages: small tasks read
each file, checksum it and split it into pages (a PDF into one-page PDFs, without rendering), then a
pool of actors, each holding the model once, decodes, cleans and writes one page at a time, so the
pages of one long PDF spread over the whole cluster. Inputs and ``DEST`` are local paths (shared by
every node of a cluster) or any URI pyarrow opens, e.g. ``s3://bucket/cleaned``.

``DEST/manifest.parquet`` lists every page: status (cleaned, skipped, failed), error, seconds, sizes and
the input and model checksums. A re-run skips pages whose output exists and whose input and model
checksums, mode and straightening (``--deskew``) match, and keeps the names the manifest recorded
(core.naming plans the rest); a bad file or page is recorded and skipped, never fatal. Every output is
written atomically (core.atomic).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import re
import socket
import sys
import tempfile
import time
from contextlib import closing
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pandas as pd
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from core.atomic import is_partial, write_fs
from core.card import sha256
from core.config import weight_path
from core.naming import (SUFFIXES, NamePlan, document_names, inside, out_is_input_folder, page_name, page_stem,
                         safe_folder, skip_when_walking)

MANIFEST = "manifest.parquet"
PARTS = "manifest-parts"  # rows flushed during a run, so a run that dies still counts as done what it did
FLUSH_ROWS, FLUSH_SECONDS = 1000, 30.0  # ARCHIVE_FLUSH_ROWS in the environment overrides the rows
WORKER_CPUS = 1  # CPUs (and TensorFlow threads) per cleaning actor
DONE = ("cleaned", "skipped")
COLUMNS = ["source", "page", "pages", "output", "status", "error", "seconds", "input_bytes", "output_bytes",
           "width", "height", "dpi", "worker", "started", "input_sha256", "model_sha256", "mode",
           "straightened"]


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """A filesystem and path for a local path or any URI pyarrow opens (``s3://…``, ``gs://…``, ``file://…``)."""
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def _out_uri(out: str | Path) -> str:
    """``--out`` as given: argparse made it a ``Path``, which folds ``s3://b/x`` into ``s3:/b/x``."""
    m = re.fullmatch(r"([A-Za-z][\w+.-]+):/+(.*)", str(out))
    if not m:
        return str(out)
    return f"/{m[2]}" if m[1] == "file" else f"{m[1]}://{m[2]}"


def _uri(fs: pafs.FileSystem, path: str) -> str:
    return path if isinstance(fs, pafs.LocalFileSystem) else f"{fs.type_name}://{path}"


def list_inputs(inputs: list[str], dest: str | None = None) -> list[tuple[str, str]]:
    """(source URI, output folder relative to DEST) for every input file: files as named, image/PDF files
    inside folders (recursively, keeping their sub-folders), and glob patterns (``*``, ``?``, ``[…]``);
    nothing under the output folder ``dest`` when it lies inside a walked folder (see core.naming)."""
    from core.clean import UsageError

    found: dict[str, str] = {}
    for item in inputs:
        fs, path = resolve(item)
        pattern = None
        if any(c in path for c in "*?["):
            parts = PurePosixPath(path).parts
            first = next(i for i, p in enumerate(parts) if any(c in p for c in "*?["))
            pattern, path = path, str(PurePosixPath(*parts[:first]))
        if pattern is None and fs.get_file_info(path).type != pafs.FileType.Directory:
            found.setdefault(_uri(fs, path), "")  # a missing file fails later, in the manifest
            continue
        if dest and out_is_input_folder([_uri(fs, path)], dest):
            raise UsageError(f"--out {dest} is also an input folder, so its cleaned pages would be read as "
                             f"inputs next time: choose another folder (e.g. {dest}/cleaned).")
        skip = skip_when_walking(_uri(fs, path), dest) if dest else None
        for f in fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True)):
            uri = _uri(fs, f.path)
            if f.type != pafs.FileType.File or (skip and inside(uri, skip)):
                continue
            if _match(f.path, pattern) if pattern else Path(f.path).suffix.lower() in SUFFIXES:
                folder = str(PurePosixPath(f.path).parent.relative_to(path))
                found.setdefault(uri, "" if folder == "." else folder)
    return sorted(found.items())


def _match(path: str, pattern: str) -> bool:
    parts, wanted = PurePosixPath(path).parts, PurePosixPath(pattern).parts
    return len(parts) == len(wanted) and all(fnmatch(p, w) for p, w in zip(parts, wanted))


def _split(row: dict, pdf_dpi: int, model_sha256: str, mode: str, straightened: bool) -> list[dict]:
    """The pages of one file as rows, each with a self-contained payload: a one-page PDF (cut without
    rendering), or the file itself and the page's index; a file that cannot be opened is one failed row."""
    from core.imageio import InputError, display_name

    name = display_name(row["source"])
    base = {"source": row["source"], "folder": row["folder"], "doc": row["doc"], "error": "", "payload": b"",
            "index": 0, "input_bytes": 0, "input_sha256": "", "model_sha256": model_sha256, "mode": mode,
            "straightened": straightened, "pdf_dpi": pdf_dpi}

    def page(number: int, count: int, status: str, **kw) -> dict:
        return {**base, "page": number, "pages": count, "status": status, **kw}

    try:
        data = _read(row["source"])
    except (OSError, ValueError) as e:
        from core.clean import read_error
        return [page(0, 0, "failed", error=read_error(row["source"], e))]
    base.update(input_bytes=len(data), input_sha256=hashlib.sha256(data).hexdigest())
    done = set(row["done_pages"]) if base["input_sha256"] == row["done_sha"] else set()
    if done and len(done) == row["done_count"]:
        return [page(k, len(done), "skipped") for k in sorted(done)]  # done_count pages, all done
    try:
        payloads = _pages(data, name, pdf_dpi)
    except InputError as e:
        return [page(0, 0, "failed", error=str(e))]
    count = len(payloads)
    return [page(k + 1, count, "skipped") if k + 1 in done else
            page(k + 1, count, "failed", error=p) if isinstance(p, str) else
            page(k + 1, count, "todo", payload=p[0], index=p[1]) for k, p in enumerate(payloads)]


def _read(source: str) -> bytes:
    fs, path = resolve(source)
    with fs.open_input_stream(path) as f:
        return f.read()


def _pages(data: bytes, name: str, pdf_dpi: int) -> list[tuple[bytes, int] | str]:
    """Per page (payload, page index within it), or an error message for a page that cannot be cut out:
    a PDF is cut into one-page PDFs; an image file's pages have no payload (the worker reads the file)."""
    import pypdfium2 as pdfium

    from core.imageio import open_upload

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        pdf = None
    if pdf is None or len(pdf) == 0:  # not a PDF, or a broken one: open_upload says why in its words
        with open_upload(data, name, pdf_dpi, whole=False) as upload:
            return [(b"", i) for i in range(upload.count)]
    with closing(pdf):
        return [_one_page(pdf, i, name) for i in range(len(pdf))]


def _one_page(pdf, index: int, name: str) -> tuple[bytes, int] | str:
    import pypdfium2 as pdfium

    try:
        with closing(pdfium.PdfDocument.new()) as one:
            one.import_pages(pdf, [index])
            buf = io.BytesIO()
            one.save(buf)
        return buf.getvalue(), 0
    except pdfium.PdfiumError as e:
        return f"`{name}` page {index + 1} could not be cut out of the PDF ({e}); the PDF seems damaged."


class Cleaner:
    """A Ray actor: loads the model once (safe_mode, checksum-verified), then cleans and writes pages."""

    def __init__(self, model: list, dest: str, threads: int = WORKER_CPUS, straighten: bool = False) -> None:
        import ray
        import tensorflow as tf

        from core.inference import load_model

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        model_files = ray.get(model[0])  # {file name: bytes} of the .keras file and its card
        with tempfile.TemporaryDirectory(prefix="archive-model-") as tmp:
            for file, data in model_files.items():
                Path(tmp, file).write_bytes(data)
            keras_file = next(f for f in model_files if f.endswith(".keras"))
            self.model = load_model("documents", Path(tmp, keras_file))
        self.fs, self.dest = resolve(dest)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.straighten = straighten

    def __call__(self, batch: dict) -> dict:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        out = [self.clean(row) for row in rows]
        return {c: [r[c] for r in out] for c in COLUMNS + ["folder", "doc"]}

    def clean(self, row: dict) -> dict:
        """One page row to its manifest row; a page that fails is recorded, never raised."""
        from core.atomic import WriteError
        from core.imageio import InputError, display_name, open_upload
        from core.serving.documents import clean_page

        result = {**row, "output": "", "seconds": 0.0, "output_bytes": 0, "width": 0, "height": 0, "dpi": 0.0,
                  "worker": "", "started": 0.0}
        if row["status"] != "todo":
            return result
        start, result["started"] = time.perf_counter(), time.time()
        try:
            name = page_name(row["doc"], row["page"] - 1, row["pages"])
            result["output"] = str(PurePosixPath(row["folder"], name))
            payload = row["payload"] or _read(row["source"])  # a PDF's page, or the whole image file
            first = row["page"] - 1 if row["payload"] and row["pages"] > 1 else None
            with open_upload(payload, display_name(row["source"]), int(row["pdf_dpi"]), whole=False,
                             first=first) as upload:
                page = clean_page(self.model, upload, int(row["index"]), straighten=self.straighten)
            data = page.png(row["mode"])
            write_fs(self.fs, f"{self.dest}/{result['output']}", data)
            result.update(status="cleaned", output_bytes=len(data), width=page.size[0], height=page.size[1],
                          dpi=float(page.dpi), worker=self.worker)
        except (InputError, WriteError) as e:
            result.update(status="failed", error=str(e))
        except Exception as e:  # never fatal: the page is recorded with what went wrong
            result.update(status="failed", error=f"{type(e).__name__}: {e}")
        result["seconds"] = time.perf_counter() - start
        return result


def _document_files(dest: str, folder: str, doc: str, pages: list[dict], mode: str,
                    outputs: tuple[bool, bool] = (True, False)) -> str:
    """Write one document's files (``doc.pdf``, ``doc.txt``: ``outputs`` = (pdf, ocr), see
    ``core.searchable_pdf.document_files``) in ``folder`` from its cleaned pages (PNGs in DEST); the error, or ""."""
    from core.searchable_pdf import document_files
    from core.serving.documents import CleanedPage

    fs, root = resolve(dest)
    try:
        cleaned = []
        for p in pages:
            with fs.open_input_stream(f"{root}/{p['output']}") as f:
                png = f.read()  # the PNG of this run's mode, which is all pdf_bytes reads for that mode
            cleaned.append(CleanedPage(p["source"], p["page"] - 1, p["pages"], (p["width"], p["height"]), p["dpi"],
                                       pngs={mode: png}))
        for name, data in document_files(cleaned, doc, mode, *outputs):
            write_fs(fs, f"{root}/{PurePosixPath(folder, name)}", data)
        return ""
    except Exception as e:  # one document's PDF failing does not stop the others
        return f"{type(e).__name__}: {e}"


def write_documents(ray, frame: pd.DataFrame, existing: set[str], dest: str, mode: str,
               outputs: tuple[bool, bool] = (True, False)) -> tuple[int, list[str]]:
    """Each document's files (``doc.pdf``, ``doc.txt``), beside its pages, from the pages cleaned (bad pages were
    reported and are left out, as in the plain CLI), as Ray tasks; they are rewritten only when a page was
    cleaned in this run or one is missing. (documents tried, failures)."""
    task = ray.remote(num_cpus=WORKER_CPUS)(_document_files)
    jobs = {}
    for (source, folder, doc), g in frame[frame.page > 0].groupby(["source", "folder", "doc"]):
        done = g[g.status.isin(DONE)]
        names = {str(PurePosixPath(folder, name)) for name in document_names(doc, *outputs)}
        if done.empty or (not (done.status == "cleaned").any() and names <= existing):
            continue
        pages = done.sort_values("page")[["source", "page", "pages", "output", "width", "height", "dpi"]]
        jobs[source] = task.remote(dest, folder, doc, pages.to_dict("records"), mode, outputs)
    errors = dict(zip(jobs, ray.get(list(jobs.values()))))
    return len(jobs), [f"{source} (PDF): {error}" for source, error in errors.items() if error]


def read_manifest(fs: pafs.FileSystem, dest: str) -> pd.DataFrame:
    """Every page an earlier run recorded in ``DEST`` (the manifest, plus parts a run that died left), newest last."""
    tables = []
    for path in [f"{dest}/{MANIFEST}"] + _parts(fs, dest):
        if fs.get_file_info(path).type == pafs.FileType.File:
            try:
                table = pq.read_table(path, filesystem=fs).to_pandas()
                # Manifests from before --deskew was recorded: unknown, so their pages are cleaned again.
                tables.append(table.assign(straightened=table.get("straightened"))[COLUMNS])
            except (OSError, ValueError, KeyError) as e:  # pyarrow's ArrowInvalid is a ValueError
                print(f"warning: {_uri(fs, path)} is unreadable ({type(e).__name__}: {str(e)[:120]}); skipped, so "
                      "the pages it listed are cleaned again", file=sys.stderr)
    if not tables:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(tables).drop_duplicates(["source", "page"], keep="last")


def _parts(fs: pafs.FileSystem, dest: str) -> list[str]:
    found = fs.get_file_info(pafs.FileSelector(f"{dest}/{PARTS}", allow_not_found=True))
    return sorted(f.path for f in found if f.path.endswith(".parquet") and not is_partial(f.path))


def _plan(files: list[tuple[str, str]], previous: pd.DataFrame, existing: set[str], model_sha: str,
          mode: str, straightened: bool, dest: str) -> list[dict]:
    """One row per input file: its output folder and document stem, and the pages an earlier run did.

    Names: first the ones the manifest recorded (a resumed run writes where the last one did), then the
    inputs inside DEST are reserved (never overwritten), then each new document claims a free stem."""
    done = previous[previous.status.isin(DONE) & (previous.model_sha256 == model_sha) & (previous["mode"] == mode)
                    & (previous.straightened == straightened) & previous.output.isin(existing)]
    by_source = {s: g for s, g in done.groupby("source")}
    named = previous[previous.output.astype(str) != ""].drop_duplicates("source")
    recorded = {r.source: (safe_folder(str(PurePosixPath(r.output).parent)), page_stem(r.output, int(r.pages)))
                for r in named.itertuples()}
    plan, stems = NamePlan(), {}
    for source, _ in files:
        if source in recorded and plan.free(*recorded[source]):
            stems[source] = recorded[source][0], plan.keep(*recorded[source])
    for source, _ in files:
        parent = str(PurePosixPath(source).parent)
        if inside(parent, dest):
            plan.reserve(safe_folder(parent[len(dest):]), PurePosixPath(source).name)
    rows = []
    for source, folder in files:
        folder = safe_folder(folder)
        out_folder, doc = stems.get(source) or (folder, plan.claim(folder, PurePosixPath(source).name))
        g = by_source.get(source)
        shas = set(g.input_sha256) if g is not None else set()
        rows.append({"source": source, "folder": out_folder, "doc": doc,
                     "done_sha": shas.pop() if len(shas) == 1 else "",
                     "done_pages": sorted(int(p) for p in g.page) if g is not None else [],
                     "done_count": int(g.pages.iloc[0]) if g is not None else 0})
    return rows


def run(args: argparse.Namespace) -> int:
    """The ``--ray`` path of ``python -m core.clean``; exit code 0, 1 when any page or file failed, 2 when
    the model cannot be loaded or the cluster lacks the GPUs asked for."""
    import ray
    import ray.data

    from core.inference import WeightsError, load_model

    mode, straighten = getattr(args, "mode", "gray"), bool(getattr(args, "deskew", False))
    model_path = Path(args.model) if args.model else weight_path("documents")
    try:
        load_model("documents", model_path)  # the plain path's checks and messages, before any worker starts
        model_files = {p.name: p.read_bytes() for p in (model_path, model_path.with_suffix(".json"))}
    except (WeightsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    model_sha = sha256(model_path)
    dest_fs, dest = resolve(_out_uri(args.out))
    dest_uri = _uri(dest_fs, dest)
    if dest_fs.get_file_info(dest).type == pafs.FileType.File:
        from core.clean import UsageError
        raise UsageError(f"--out {args.out} is a file, not a folder: name a folder for the cleaned pages.")
    files = list_inputs(args.inputs, dest=dest_uri)
    previous = read_manifest(dest_fs, dest)
    old_parts = _parts(dest_fs, dest)
    existing = set()
    for f in dest_fs.get_file_info(pafs.FileSelector(dest, recursive=True, allow_not_found=True)):
        if is_partial(f.path):  # a write that a killed run left unfinished
            dest_fs.delete_file(f.path)
        elif f.type == pafs.FileType.File:
            existing.add(f.path[len(dest) + 1:])
    plan = _plan(files, previous, existing, model_sha, mode, straighten, dest_uri)

    env = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}
    started = not ray.is_initialized()
    if started:  # the code travels with the job, so cluster nodes need only the packages installed
        ray.init(address=args.ray or None, include_dashboard=False, logging_level=logging.WARNING,
                 runtime_env={**env, "py_modules": [str(Path(__file__).parent)]})
    ctx = ray.data.DataContext.get_current()
    saved = ctx.target_max_block_size, ctx.enable_progress_bars
    # One row per block: blocks are what the actor pool hands out, so the pages of one PDF spread out.
    ctx.target_max_block_size, ctx.enable_progress_bars = 1, not args.quiet
    gpus = float(getattr(args, "gpus_per_worker", 0) or 0)
    resources = ray.cluster_resources()
    workers = int(resources.get("GPU", 0) // gpus) if gpus else max(1, int(resources.get("CPU", 1) // WORKER_CPUS))
    run_id, rows, pending, flushed = f"{time.time_ns()}", [], [], time.monotonic()
    flush_rows = int(os.environ.get("ARCHIVE_FLUSH_ROWS", FLUSH_ROWS))
    try:
        if not workers:
            print(f"error: --gpus-per-worker {gpus:g}, but the Ray cluster has {resources.get('GPU', 0):g} GPU(s)",
                  file=sys.stderr)
            return 2
        if plan:
            ds = (ray.data.from_items(plan, override_num_blocks=min(len(plan), 10_000))
                  .flat_map(_split, fn_kwargs={"pdf_dpi": args.pdf_dpi, "model_sha256": model_sha, "mode": mode,
                                               "straightened": straighten},
                            num_cpus=0, compute=ray.data.TaskPoolStrategy(size=max(1, workers // 8)),
                            runtime_env=env)
                  .map_batches(Cleaner, batch_size=1, num_cpus=WORKER_CPUS, num_gpus=gpus or None,
                               fn_constructor_kwargs={"model": [ray.put(model_files)], "dest": dest_uri,
                                                      "straighten": straighten},
                               compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2),
                               runtime_env=env))
            for batch in ds.iter_batches(batch_format="pandas", batch_size=None):
                pending.append(batch)
                if sum(map(len, pending)) >= flush_rows or time.monotonic() - flushed > FLUSH_SECONDS:
                    _write_part(dest_fs, dest, run_id, len(rows), pending)
                    rows += pending
                    pending, flushed = [], time.monotonic()
            rows += pending
        manifest = _finish(pd.concat(rows) if rows else pd.DataFrame(columns=COLUMNS + ["folder", "doc"]), previous)
        others = previous[~previous.source.isin(manifest.source)]  # files this run was not given stay listed
        _write_table(dest_fs, f"{dest}/{MANIFEST}", pd.concat([manifest[COLUMNS], others[COLUMNS]]))
        if old_parts or _parts(dest_fs, dest):  # the manifest now holds what they held
            dest_fs.delete_dir(f"{dest}/{PARTS}")
        outputs = (bool(getattr(args, "pdf", False)), bool(getattr(args, "ocr", False)))
        pdfs = write_documents(ray, manifest, existing, dest_uri, mode, outputs) if any(outputs) else None
    finally:
        ctx.target_max_block_size, ctx.enable_progress_bars = saved
        if started:
            ray.shutdown()
    return _report(manifest, dest_uri, pdfs)


def _write_part(fs: pafs.FileSystem, dest: str, run_id: str, n: int, frames: list[pd.DataFrame]) -> None:
    _write_table(fs, f"{dest}/{PARTS}/{run_id}-{n:09d}.parquet", pd.concat(frames)[COLUMNS])


def _write_table(fs: pafs.FileSystem, path: str, frame: pd.DataFrame) -> None:
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False)
    write_fs(fs, path, buf.getvalue())


def _finish(manifest: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Skipped pages keep what the run that cleaned them recorded (output, sizes), with 0 seconds now."""
    keep = ["output", "output_bytes", "width", "height", "dpi", "worker"]
    old = previous.set_index(["source", "page"])[keep]
    skipped = manifest.status == "skipped"
    index = pd.MultiIndex.from_frame(manifest.loc[skipped, ["source", "page"]])
    manifest.loc[skipped, keep] = old.reindex(index).to_numpy()
    return manifest.sort_values(["source", "page"]).reset_index(drop=True)


def _report(manifest: pd.DataFrame, dest: str, pdfs: tuple[int, list[str]] | None = None) -> int:
    counts = manifest.status.value_counts()
    failed = manifest[manifest.status == "failed"]
    for _, r in failed.iterrows():
        where = f" page {r.page}" if r.page else ""
        print(f"failed {r.source}{where}: {r.error}", file=sys.stderr)
    tried, pdf_failures = pdfs or (0, [])
    for f in pdf_failures:
        print(f"failed {f}", file=sys.stderr)
    written = f"{tried - len(pdf_failures)} PDF(s) written, " if pdfs else ""
    print(f"{counts.get('cleaned', 0)} page(s) cleaned, {counts.get('skipped', 0)} already done, "
          f"{len(failed)} failed; {written}outputs and {MANIFEST} in {dest}")
    return 1 if len(failed) or pdf_failures else 0
