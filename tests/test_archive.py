"""Cleaning an archive on Ray (core.archive): same pages as the single-machine CLI, a manifest, resume."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from core.archive import COLUMNS, MANIFEST, PARTS, _pages, _write_table, list_inputs, read_manifest, resolve
from core.clean import main
from core.documents.pairs import sample_pages
from core.imageio import InputError, open_upload
from tests.conftest import ROOT


@pytest.mark.slow
def test_the_plain_cli_does_not_import_ray():
    code = "import sys, core.clean; sys.exit('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def pages(n: int, size: tuple[int, int] = (200, 160)) -> list[Image.Image]:
    return [Image.fromarray(p.noisy, "L") for p in sample_pages(n, size=size)]


def write_pdf(path: Path, images: list[Image.Image]) -> bytes:
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=100)
    return path.read_bytes()


def test_a_pdf_is_cut_into_one_page_pdfs_that_render_as_its_pages(tmp_path):
    data = write_pdf(tmp_path / "doc.pdf", pages(3))
    cut = _pages(data, "doc.pdf", 150)
    assert len(cut) == 3
    with open_upload(data, "doc.pdf", 150) as whole:
        for i, (payload, index) in enumerate(cut):
            assert payload.startswith(b"%PDF-") and index == 0
            with open_upload(payload, "doc.pdf", 150) as one:
                assert one.count == 1
                assert np.array_equal(np.asarray(one.page(0).image), np.asarray(whole.page(i).image))


def test_a_multi_page_tiff_is_one_row_per_frame_without_a_copy_of_the_file():
    frames = pages(2)
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    cut = _pages(buf.getvalue(), "two.tif", 150)
    assert cut == [(b"", 0), (b"", 1)]  # the worker reads the file itself and decodes only its page
    with open_upload(buf.getvalue(), "two.tif") as upload:
        for (_, index), frame in zip(cut, frames):
            assert np.array_equal(np.asarray(upload.page(index).image), np.asarray(frame))


def test_inputs_are_files_folders_and_globs(tmp_path):
    for rel in ["a.png", "sub/b.tif", "sub/notes.txt", "c.pdf"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    folder = dict(list_inputs([str(tmp_path)]))
    assert folder == {str(tmp_path / "a.png"): "", str(tmp_path / "sub/b.tif"): "sub", str(tmp_path / "c.pdf"): ""}
    assert dict(list_inputs([str(tmp_path / "*.p*")])) == {str(tmp_path / "a.png"): "", str(tmp_path / "c.pdf"): ""}
    assert list_inputs([str(tmp_path / "missing.png")]) == [(str(tmp_path / "missing.png"), "")]
    assert list_inputs([str(tmp_path)], dest=str(tmp_path / "sub")) == sorted(
        [(str(tmp_path / "a.png"), ""), (str(tmp_path / "c.pdf"), "")])


def test_a_run_that_died_left_parts_that_count_as_done(tmp_path):
    row = dict.fromkeys(COLUMNS, "") | {"source": "/in/a.pdf", "pages": 2, "status": "failed"}
    fs, dest = resolve(str(tmp_path))
    _write_table(fs, f"{dest}/{MANIFEST}", pd.DataFrame([row | {"page": 1}, row | {"page": 2}]))
    _write_table(fs, f"{dest}/{PARTS}/1-000000000.parquet", pd.DataFrame([row | {"page": 2, "status": "cleaned"}]))
    found = read_manifest(fs, dest).set_index("page").status
    assert found.to_dict() == {1: "failed", 2: "cleaned"}


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray instance with 2 CPUs, so the archive runs 2 cleaning workers (processes)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -r requirements-archive.txt")
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    ray.shutdown()


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), np.float32) / 255


@pytest.mark.slow
def test_ray_cleans_like_the_cli_records_failures_and_resumes(local_ray, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    a, b, c, d = pages(4)
    a.save(inputs / "a.png")
    b.save(inputs / "b.png")
    write_pdf(inputs / "doc.pdf", [c, d, a])
    broken = io.BytesIO()
    b.save(broken, "PNG")
    (inputs / "broken.png").write_bytes(broken.getvalue()[:300])  # truncated

    assert main([str(inputs), "--out", str(tmp_path / "plain"), "--quiet"]) == 1
    dest = tmp_path / "ray"
    assert main([str(inputs), "--out", str(dest), "--ray", "--quiet"]) == 1

    names = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert names == ["a.png", "b.png", "doc-page001.png", "doc-page002.png", "doc-page003.png"]
    for name in names:
        assert np.abs(pixels(dest / name) - pixels(tmp_path / "plain" / name)).max() <= 1e-4

    manifest = pd.read_parquet(dest / "manifest.parquet")
    cleaned = manifest[manifest.status == "cleaned"]
    assert sorted(cleaned.output) == names
    assert (cleaned.seconds > 0).all() and (cleaned.width > 0).all() and (cleaned.height > 0).all()
    assert all(cleaned.output_bytes[i] == (dest / cleaned.output[i]).stat().st_size for i in cleaned.index)
    assert cleaned.worker.str.len().gt(0).all()
    failed = manifest[manifest.status == "failed"]
    assert list(failed.source) == [str(inputs / "broken.png")]
    with pytest.raises(InputError) as refused, open_upload((inputs / "broken.png").read_bytes(), "broken.png") as up:
        up.page(0)
    assert failed.error.iloc[0] == str(refused.value)

    # Second run, through the command line on the same cluster by its address: everything done is skipped;
    # a changed input and a deleted output are cleaned again; --pdf adds a PDF per document.
    before = {n: (dest / n).stat().st_mtime_ns for n in names}
    (dest / "doc-page002.png").unlink()
    c.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(inputs / "b.png")
    address = local_ray.get_runtime_context().gcs_address
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "core.clean", str(inputs), "--out", str(dest), "--ray", address,
                          "--pdf", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stderr[-3000:]
    again = pd.read_parquet(dest / "manifest.parquet").set_index(["source", "page"]).status
    assert again[(str(inputs / "broken.png"), 1)] == "failed"
    assert again[(str(inputs / "b.png"), 1)] == again[(str(inputs / "doc.pdf"), 2)] == "cleaned"
    skipped = [(str(inputs / "a.png"), 1), (str(inputs / "doc.pdf"), 1), (str(inputs / "doc.pdf"), 3)]
    assert list(again[skipped]) == ["skipped"] * 3
    assert all((dest / n).stat().st_mtime_ns == before[n] for n in ["a.png", "doc-page001.png", "doc-page003.png"])
    assert (dest / "doc-page002.png").exists()
    assert "2 page(s) cleaned, 3 already done, 1 failed; 3 PDF(s) written" in run.stdout
    # --pdf: one PDF per document (not for the broken file), its pages the cleaned PNGs, losslessly.
    assert sorted(p.name for p in dest.glob("*.pdf")) == ["a.pdf", "b.pdf", "doc.pdf"]
    pdf = PdfReader(dest / "doc.pdf")
    assert len(pdf.pages) == 3
    for i, page in enumerate(pdf.pages):
        written = Image.open(dest / f"doc-page{i + 1:03d}.png")
        assert np.array_equal(np.asarray(page.images[0].image), np.asarray(written))

    # Third run with --deskew: pages cleaned without straightening are not "done" for it.
    assert main([str(inputs), "--out", str(dest), "--ray", "--deskew", "--quiet"]) == 1
    third = pd.read_parquet(dest / "manifest.parquet")
    assert third.status.value_counts().to_dict() == {"cleaned": 5, "failed": 1}
    assert third.straightened.all()


@pytest.mark.slow
def test_asking_for_gpus_the_cluster_lacks_is_an_error_not_a_wait(local_ray, tmp_path, capsys):
    pages(1)[0].save(tmp_path / "a.png")
    assert main([str(tmp_path / "a.png"), "--out", str(tmp_path / "out"), "--ray", "--gpus-per-worker", "1"]) == 2
    assert "the Ray cluster has 0 GPU(s)" in capsys.readouterr().err


# ---- issue 35: nothing overwritten, nothing dropped, on Ray as on the plain CLI --------------------------

def test_an_unreadable_manifest_part_is_reported_and_skipped(tmp_path, capsys):
    row = dict.fromkeys(COLUMNS, "") | {"source": "/in/a.png", "page": 1, "pages": 1, "status": "cleaned"}
    fs, dest = resolve(str(tmp_path))
    _write_table(fs, f"{dest}/{PARTS}/1-000000000.parquet", pd.DataFrame([row]))
    (tmp_path / PARTS / "1-000000001.parquet").write_bytes(b"PAR1 cut short by a full disk")
    (tmp_path / PARTS / ".1-000000002.parquet.0123456789ab.partial").write_bytes(b"PAR1")  # a killed write
    assert list(read_manifest(fs, dest).status) == ["cleaned"]
    err = capsys.readouterr().err
    assert "1-000000001.parquet is unreadable" in err and "partial" not in err


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def bad_page_pdf(path: Path, good: list[Image.Image], bad: int) -> None:
    """A PDF of ``good`` pages plus, at ``bad`` (0-based), a page of 100 × 100 inches (over the pixel limit)."""
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(write_pdf(path, good)))
    pdf.pages.insert(bad, pdf.pages[0])
    pdf.pages[bad].obj["/MediaBox"] = [0, 0, 7200, 7200]
    pdf.save(path)


def hostile_names(scans: Path, a: Image.Image, b: Image.Image, c: Image.Image) -> None:
    """Inputs whose output names would collide or fail: ``A.png``/``a.png``, ``CON.png``, ``sub/letter.png``,
    and ``book.pdf`` whose page 2 (of 3) is over the limit."""
    (scans / "sub").mkdir(parents=True, exist_ok=True)
    a.save(scans / "A.png")
    b.save(scans / "a.png")  # the same name as A.png's on macOS, Windows, exFAT
    c.save(scans / "CON.png")  # a device name on Windows
    a.save(scans / "sub" / "letter.png")
    bad_page_pdf(scans / "book.pdf", [a, b], bad=1)  # 3 pages, page 2 over the limit


@pytest.mark.slow
def test_ray_names_pages_like_the_cli_never_rereads_or_overwrites_and_keeps_names(local_ray, tmp_path, capsys):
    scans = tmp_path / "scans"
    (scans / "sub").mkdir(parents=True)
    a, b, c = pages(3)
    write_pdf(scans / "scan.pdf", [a, b])
    c.save(scans / "scan-page001.png")  # its output name is scan.pdf's first page's
    hostile_names(scans, a, b, c)
    originals = tree(scans)

    assert main([str(scans), "--out", str(tmp_path / "plain"), "--quiet"]) == 1
    plain_err = capsys.readouterr().err
    out = scans / "cleaned"  # inside the input folder
    assert main([str(scans), "--out", str(out), "--ray", "--quiet"]) == 1
    names = sorted(n for n in tree(out) if n.endswith(".png"))
    assert names == sorted(tree(tmp_path / "plain")) == [
        "A.png", "CON_.png", "a-2.png", "book-page001.png", "book-page003.png", "scan-2-page001.png",
        "scan-2-page002.png", "scan-page001.png", "sub/letter.png"]
    manifest = pd.read_parquet(out / MANIFEST)
    failed = manifest[manifest.status == "failed"]
    assert list(zip(failed.source, failed.page)) == [(str(scans / "book.pdf"), 2)]
    assert "`book.pdf` page 2 is 100.0×100.0 inches" in failed.error.iloc[0]
    assert f"skipped {scans / 'book.pdf'}: {failed.error.iloc[0]}" in plain_err  # the same words in both paths
    assert sorted(manifest[manifest.status == "cleaned"].output) == names

    # Again, with a new a.jpg (sorted before a.png) and a damaged manifest part: the outputs are not read
    # back as inputs, a.png keeps the name the manifest recorded, a.jpg gets a new one, the part is skipped.
    first = tree(out)
    c.save(scans / "a.jpg")
    (out / PARTS).mkdir()
    (out / PARTS / "0-000000000.parquet").write_bytes(b"PAR1 damaged")
    assert main([str(scans), "--out", str(out), "--ray", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "0-000000000.parquet is unreadable" in captured.err
    assert "1 page(s) cleaned, 9 already done, 1 failed" in captured.out
    again = tree(out)
    assert {n: again[n] for n in first if n.endswith(".png")} == {n: first[n] for n in first if n.endswith(".png")}
    assert sorted(set(again) - set(first)) == ["a-3.png"]
    assert tree(scans) == originals | {"a.jpg": (scans / "a.jpg").read_bytes()} | {f"cleaned/{n}": v
                                                                                    for n, v in again.items()}

    # The output folder above the input: everything is cleaned; the input folder itself: refused.
    above = tmp_path / "above"
    (above / "scans").mkdir(parents=True)
    a.save(above / "scans" / "a.png")
    assert main([str(above / "scans"), "--out", str(above), "--ray", "--quiet"]) == 0
    assert (above / "a.png").exists() and "1 page(s) cleaned" in capsys.readouterr().out
    assert main([str(scans), "--out", str(scans), "--ray", "--quiet"]) == 2
    assert main([str(scans), "--out", str(scans / "a.png"), "--ray", "--quiet"]) == 2
    # Ray's own processes may log to the same stderr ("(pid=gcs_server) ..."): only the CLI's lines count.
    err = [line for line in capsys.readouterr().err.strip().splitlines() if "(pid=" not in line]
    assert len(err) == 2 and all(line.startswith("error: --out") for line in err)
    assert tree(scans / "cleaned") == again


@pytest.mark.slow
def test_a_ray_run_killed_mid_flush_resumes_with_every_page_once(local_ray, tmp_path):
    import signal
    import time

    inputs, dest = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    imgs = pages(4)
    for i in range(14):
        imgs[i % 4].save(inputs / f"p{i:02d}.png")
    write_pdf(inputs / "doc.pdf", imgs)
    expected = sorted([f"p{i:02d}.png" for i in range(14)] + [f"doc-page{i:03d}.png" for i in range(1, 5)])
    address = local_ray.get_runtime_context().gcs_address
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARCHIVE_FLUSH_ROWS": "1"}  # a part per page: many flushes
    child = subprocess.Popen([sys.executable, "-m", "core.clean", str(inputs), "--out", str(dest), "--ray", address,
                              "--quiet"], cwd=ROOT, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and child.poll() is None:
            if len(list((dest / PARTS).glob("*.parquet"))) >= 3:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it could be killed"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert not (dest / MANIFEST).exists()
    (dest / PARTS / ".9-000000099.parquet.0123456789ab.partial").write_bytes(b"PAR1\x00")  # a flush cut short
    done_before = len(read_manifest(*resolve(str(dest))))
    assert 3 <= done_before < len(expected)

    assert main([str(inputs), "--out", str(dest), "--ray", "--quiet"]) == 0
    manifest = pd.read_parquet(dest / MANIFEST)
    assert not manifest.duplicated(["source", "page"]).any() and len(manifest) == len(expected)
    assert set(manifest.status) <= {"cleaned", "skipped"} and (manifest.status == "skipped").sum() >= done_before
    assert sorted(manifest.output) == expected
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert written == sorted(expected + [MANIFEST])  # no partial file, no part left, nothing doubled
    for name in expected:
        Image.open(dest / name).load()  # whole PNGs
