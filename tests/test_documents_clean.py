"""Whole-page cleaning: tiling equals one-shot inference, no seams, every input mode, bounded memory, the CLI."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from core.clean import main
from core.documents import pairs as P
from core.documents.degrade import uneven_illumination
from core.documents.synth import bundled_fonts, render_page
from core.imageio import read_upload
from core.inference import load_model
from core.serving.documents import _spans, clean_array, clean_image
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def model():
    return load_model("documents")


def test_tile_weights_sum_to_one_everywhere():
    for n, tile in [(64, 64), (1000, 256), (3512, 1024), (2488, 1024), (136, 48)]:
        total = np.zeros(n)
        for start, end, w in _spans(n, tile, 64, 32):
            assert len(w) == end - start and start % 8 == 0
            total[start:end] += w
        assert np.allclose(total, 1)


def test_tiling_gives_the_same_result_as_one_shot(model):
    page = P.held_out_pairs(1)[0].noisy[:300, :420].astype(np.float32) / 255
    one_shot = clean_array(model, page, tile=4096)
    tiled = clean_array(model, page, tile=128)  # 3 x 4 tiles with the default margin and blend
    assert tiled.shape == page.shape
    assert np.abs(tiled - one_shot).max() <= 1e-4


@pytest.mark.slow
def test_no_seam_on_a_large_page(model):
    rng = np.random.default_rng(0)
    clean = render_page(rng, (1800, 1300), dpi=300, fonts=bundled_fonts()).image / 255
    page = uneven_illumination(clean * 0.85, rng).astype(np.float32)
    tiled = clean_array(model, page, tile=512)  # tiles meet at rows 600, 1200 and columns 448, 896
    one_shot = clean_array(model, page, tile=4096)
    assert np.abs(tiled - one_shot).max() <= 1e-4
    # Row-to-row change across tile borders is no larger than elsewhere on the page.
    jumps = np.abs(np.diff(tiled, axis=0)).mean(axis=1)
    assert jumps[[599, 1199]].max() <= np.percentile(jumps, 99)


@pytest.mark.slow
def test_an_a4_page_at_300_dpi_stays_under_2_gb():
    code = (
        "import numpy as np; from core.serving.documents import clean_both; from core.inference import load_model;"
        "m = load_model('documents'); x = np.random.default_rng(0).random((3508, 2480), dtype=np.float32);"
        "y, bw = clean_both(m, x); assert y.shape == bw.shape == x.shape;"
        # VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would count the forking pytest process.
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    peak_mb = int(out.stdout.split()[-1]) / 1024
    assert peak_mb < 2048


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def input_modes() -> dict[str, tuple[bytes, tuple[int, int]]]:
    """Uploads of every mode, with the (width, height) the cleaned page must have."""
    page = Image.fromarray(P.held_out_pairs(1)[0].noisy[:200, :150])
    rgb = page.convert("RGB")
    rgba = page.convert("RGBA")
    rgba.putalpha(200)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    sixteen = Image.fromarray(np.asarray(page).astype(np.uint16) * 257)
    return {
        "gray.png": (encode(page, "PNG"), (150, 200)),
        "rgb.jpg": (encode(rgb, "JPEG", quality=90), (150, 200)),
        "rgba.png": (encode(rgba, "PNG"), (150, 200)),
        "palette.png": (encode(rgb.convert("P"), "PNG"), (150, 200)),
        "16bit.png": (encode(sixteen, "PNG"), (150, 200)),
        "cmyk.tif": (encode(rgb.convert("CMYK"), "TIFF"), (150, 200)),
        "rotated.jpg": (encode(rgb, "JPEG", exif=exif), (200, 150)),
        "two-pages.tif": (encode(page, "TIFF", save_all=True, append_images=[page]), (150, 200)),
    }


@pytest.mark.parametrize("name", list(input_modes()))
def test_every_input_mode_is_cleaned_at_its_own_size(model, name):
    data, size = input_modes()[name]
    pages = read_upload(data, name)
    for page in pages:
        out = clean_image(model, page.image)
        assert out.mode == "L" and out.size == size
        assert np.asarray(out).mean() > np.asarray(page.image).mean()  # stains and shading lifted


def test_cli_cleans_a_folder_and_skips_the_broken_file(tmp_path, capsys):
    src = tmp_path / "scans"
    (src / "sub").mkdir(parents=True)
    page = Image.fromarray(P.held_out_pairs(1)[0].noisy[:160, :200])
    page.save(src / "good.png")
    page.save(src / "sub" / "letter.pdf", "PDF", save_all=True, append_images=[page], resolution=100)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (src / "notes.txt").write_text("not a scan")
    out = tmp_path / "clean"
    status = main([str(src), "--out", str(out), "--pdf-dpi", "100"])
    err = capsys.readouterr().err
    assert status == 1
    assert "broken.png" in err and "notes.txt" not in err
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["good.png", "sub/letter-page001.png", "sub/letter-page002.png"]  # sub-folders kept
    assert Image.open(out / "good.png").size == (200, 160)
    assert "[" in err and "3/3" in err  # the progress bar reached the end


@pytest.mark.slow
def test_cli_runs_as_a_module_and_reports_missing_files(tmp_path):
    out = subprocess.run([sys.executable, "-m", "core.clean", str(tmp_path / "missing.png"), "--out",
                          str(tmp_path / "o"), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "missing.png" in out.stderr and "0 page(s) written" in out.stdout
    assert json.loads((ROOT / "weights" / "documents.json").read_text())["model"] == "documents"


def test_the_serving_module_and_the_cli_load_no_tensorflow_until_a_model_runs():
    code = ("import sys, core.serving.documents, core.clean; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_a_page_cleaned_for_output_equals_clean_both(model):
    """clean_page lets each full-page array go early and keeps the page 8-bit while tiles read it: the same
    pixels as clean_both, in both modes."""
    from core.imageio import gray_to_float, open_upload
    from core.serving.documents import clean_both, clean_page

    image = Image.fromarray(P.held_out_pairs(1)[0].noisy[:700, :600])  # 2 × 2 tiles
    with open_upload(encode(image, "PNG"), "page.png") as upload:
        page = clean_page(model, upload, 0)
    gray, paper = clean_both(model, gray_to_float(image))
    assert np.array_equal(page.pixels[0], (gray * 255 + 0.5).astype(np.uint8))
    assert np.array_equal(page.pixels[1], np.packbits(paper, axis=1))
