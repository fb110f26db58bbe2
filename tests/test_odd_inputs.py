"""Odd but legal inputs (issue 11) and the two output modes: bounded memory per upload, budgets with advice
that fits, outputs named after their file, any page side in every download, ICC profiles, plain-text names,
damaged model files. Each file is crafted here; nothing large is committed."""
from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from streamlit.testing.v1 import AppTest

from core import config, limits
from core.clean import main
from core.documents.pairs import sample_pages
from core.imageio import InputError, display_name, open_upload, read_upload, to_grayscale
from core.inference import load_model
from core.serving.documents import FAINT, CleanedPage, binarize, clean_upload, pdf_bytes, zip_bytes
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "clean_documents.py")
A4_INCHES = (8.27, 11.69)


# ---- files made here ----------------------------------------------------------------------------------

def blank_pdf(pages: int, inches: tuple[float, float] = (42, 42)) -> bytes:
    """A PDF of blank pages of the given size: 50 pages of 42 × 42 inches take 6.5 kB."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=inches[0] * 72, height=inches[1] * 72)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def pdf_drawing_image(side: int = 46000) -> bytes:
    """An A4 page drawing one side × side 1-bit image: 257 kB on disk, 2.1 gigapixels for pdfium."""
    import pikepdf

    row = bytes(math.ceil(side / 8))
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    image = pikepdf.Stream(pdf, data)
    for key, value in {"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image, "/Width": side,
                       "/Height": side, "/ColorSpace": pikepdf.Name.DeviceGray, "/BitsPerComponent": 1,
                       "/Filter": pikepdf.Name.FlateDecode}.items():
        image[key] = value
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages[0].Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def scan(size: tuple[int, int] = (240, 200)) -> Image.Image:
    """A degraded generated page of (height, width)."""
    return Image.fromarray(sample_pages(1, size=size)[0].noisy, "L")


def with_profile(fmt: str, extra: int) -> bytes:
    """An RGB scan carrying an sRGB colour profile padded to ``extra`` more bytes (the padding does not
    compress, as in big printer profiles)."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    padding = np.random.default_rng(0).integers(0, 256, extra, np.uint8).tobytes()
    return encode(scan().convert("RGB"), fmt, icc_profile=profile + padding)


def vm_hwm_mb(code: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    """Run Python ``code`` in a child process; its result and its peak resident memory (VmHWM) in MB."""
    probe = "; print('VmHWM', [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    out = subprocess.run([sys.executable, "-c", code + probe, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out, int(out.stdout.split("VmHWM")[-1].split()[0]) / 1024


@pytest.fixture(scope="module")
def model():
    return load_model("documents")


# ---- budgets, refused at once, with advice that fits --------------------------------------------------

def test_a_6_kb_pdf_of_50_huge_pages_is_refused_before_any_page_is_drawn():
    data = blank_pdf(50)
    assert len(data) < 10_000
    with pytest.raises(InputError) as err:
        open_upload(data, "poster.pdf", 150)
    message = str(err.value)
    assert "`poster.pdf`" in message and "1984 megapixels at 150 dpi (50 pages)" in message
    # Advice that works: 3 pages of 39.7 MP fit the file budget, and 13 at the lowest resolution.
    assert "at most 3 page(s) (13 at 72 dpi)" in message
    assert 3 * 6300 * 6300 <= limits.MAX_FILE_PIXELS < 4 * 6300 * 6300
    assert 13 * 3024 * 3024 <= limits.MAX_FILE_PIXELS < 14 * 3024 * 3024


def test_advice_for_a_too_big_pdf_page_names_a_dpi_that_fits():
    with pytest.raises(InputError) as err:
        open_upload(blank_pdf(1), "poster.pdf", 300)
    assert "`poster.pdf` page 1 is 42.0×42.0 inches" in str(err.value) and "fits at 150 dpi or less" in str(err.value)
    with open_upload(blank_pdf(1), "poster.pdf", 150) as upload:  # and 150 dpi does fit
        assert upload.sizes == [(6300, 6300)]
    side = math.sqrt(70e6) / 72  # 70 megapixels at 72 dpi, the lowest resolution offered
    with pytest.raises(InputError) as err:
        open_upload(blank_pdf(1, (side, side)), "map.pdf", 72)
    assert "does not fit even at 72 dpi" in str(err.value) and "need 54 dpi" in str(err.value)
    assert "300 dpi is plenty" not in str(err.value)


def test_advice_for_a_too_big_image_gives_a_size_that_fits():
    with pytest.raises(InputError) as err:
        read_upload(encode(Image.new("L", (10000, 5000), 255), "PNG"), "wide.png")
    w, h = map(int, str(err.value).split("Resize it to at most ")[1].split(" ")[0].split("×"))
    assert w * h <= limits.MAX_PIXELS and abs(w / h - 2) < 0.01 and w * h > 0.99 * limits.MAX_PIXELS


@pytest.mark.slow
def test_an_image_drawn_inside_a_pdf_is_measured_before_pdfium_renders_it():
    with pytest.raises(InputError) as err:
        open_upload(pdf_drawing_image(), "invoice.pdf", 150)
    assert "`invoice.pdf` page 1 draws images of 2116 megapixels (the largest 46000×46000)" in str(err.value)


def test_a_file_over_what_is_left_of_the_upload_budget_is_refused_by_name():
    data = encode(scan(), "PNG")
    with open_upload(data, "a.png", left=240 * 200):
        pass
    with pytest.raises(InputError) as err:
        open_upload(data, "b.png", left=240 * 200 - 1)
    assert "`b.png`" in str(err.value) and "does not fit in what is left" in str(err.value)


def test_pages_are_decoded_one_at_a_time():
    frames = [scan() for _ in range(3)]
    with open_upload(encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]), "pages.tif") as upload:
        assert upload.count == 3 and upload.pixels == 3 * 240 * 200
        first, second = upload.page(0), upload.page(1)
        assert (first.index, second.index, second.label) == (0, 1, "pages.tif page 2/3")
        assert first.image is not second.image


# ---- ICC profiles, plain-text names ------------------------------------------------------------------

def test_big_colour_profiles_neither_break_decoding_nor_stay_on_the_gray_page():
    jpeg, png = with_profile("JPEG", 5_000_000), with_profile("PNG", 1_500_000)
    assert len(Image.open(io.BytesIO(jpeg)).info["icc_profile"]) > 5_000_000
    for name, data in [("photo.jpg", jpeg), ("scan.png", png)]:
        page = read_upload(data, name)[0]
        assert page.image.mode == "L" and page.image.size == (200, 240)
        assert "icc_profile" not in page.image.info
    assert "icc_profile" not in to_grayscale(Image.open(io.BytesIO(jpeg))).info


def test_a_float_tiff_with_no_data_pixels_reads_them_as_paper(recwarn):
    """Floats in [0, 1] scale to 0..255; NaN (quiet or signalling) and infinite pixels (no data) become paper,
    with no warning."""
    x = np.full((40, 60), 0.8, np.float32)
    x[10:20, 10:50] = 0.1  # ink
    x[0, :3] = [np.nan, np.inf, -np.inf]
    x.view(np.uint32)[0, 3] = 0x7F800001  # a signalling NaN (CI's fuzzing made one)
    buf = io.BytesIO()
    Image.fromarray(x, "F").save(buf, "TIFF")
    gray = np.asarray(read_upload(buf.getvalue(), "float.tif")[0].image)
    assert gray[0, :4].tolist() == [255] * 4 and gray[15, 30] == 26 and gray[30, 30] == 204
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_names_lose_bidi_overrides_and_keep_what_people_typed():
    assert display_name("invoice\u202egnp.exe") == "invoicegnp.exe"
    assert display_name("\u2066a\u2069\u200f.png") == "a.png"
    assert display_name("**bold** :red[x] $x$.png") == "**bold** :red[x] $x$.png"  # shown in code spans


# ---- any page side in every download; the two output modes ------------------------------------------

def cleaned_page(image: Image.Image, dpi: float = 150) -> CleanedPage:
    """A page as the cleaner keeps it, from an image that stands for a cleaned page."""
    x = np.asarray(image, np.float32) / 255
    bw = Image.fromarray(binarize(x))
    return CleanedPage("strip.png", 0, 1, image.size, dpi, {"gray": encode(image, "PNG", dpi=(dpi, dpi)),
                       "bw": encode(bw, "PNG", dpi=(dpi, dpi))}, name="strip.png")


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1, 100_000), (100_000, 1), (1, 1), (70_000, 500)])
def test_pdf_and_zip_take_any_page_side_the_cleaner_accepts(size):
    import pypdfium2
    from pypdf import PdfReader

    page = cleaned_page(Image.new("L", size, 200))
    for mode in ("gray", "bw"):
        pdf = pdf_bytes([page], mode)
        image = next(iter(PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/XObject"].values())).get_object()
        assert (image["/Width"], image["/Height"]) == size
        doc = pypdfium2.PdfDocument(pdf)
        w, h = doc.get_page_size(0)
        assert 3 <= w <= 14400 and 3 <= h <= 14400  # what viewers accept
    assert zip_bytes([(page.name, page.png("bw"))])


def test_a_cleaned_page_makes_its_pngs_when_asked_and_the_same_from_pixels_or_pngs(model):
    """A page fresh from the cleaner holds its pixels and no PNG; each mode's PNG is made on its first ask;
    ``encode`` keeps both PNGs and lets the pixels go, and the page shows the same images either way."""
    text = np.full((97, 203), 140, np.uint8)
    text[30:60, 20:180:7] = 20  # a few dark strokes on gray paper
    page = next(clean_upload(model, encode(Image.fromarray(text), "PNG", dpi=(200, 200)), "scan.png", 150))
    assert page.pngs == {} and page.pixels is not None
    shown = {mode: np.asarray(page.image(mode)) for mode in ("gray", "bw")}
    assert shown["bw"].shape == shown["gray"].shape == (97, 203) and shown["bw"].dtype == bool
    gray = page.png("gray")
    assert list(page.pngs) == ["gray"] and page.png("gray") is gray  # made once, the other mode not yet
    assert Image.open(io.BytesIO(gray)).info["dpi"] == pytest.approx((200, 200), abs=0.01)  # PNG keeps dots per metre
    assert page.encode() is page and page.pixels is None and set(page.pngs) == {"gray", "bw"}
    for mode, image in shown.items():
        assert (np.asarray(page.image(mode)) == image).all()
    assert not shown["bw"][30:60, 20:180:7].any()  # the strokes are ink in black & white


def test_binarize_thresholds_a_page_at_half_gray():
    x = np.array([[0.0, 0.49, 0.5, 0.51, 1.0]], np.float32)
    assert binarize(x).tolist() == [[False, False, False, True, True]]  # True is paper


@pytest.mark.slow
def test_both_modes_of_a_cleaned_a4_text_page(model):
    """A4 at 150 dpi: the gray PNG is 8-bit, the black & white one 1-bit; the 1-bit PDF is CCITT Group 4
    and tens of kB, the gray one lossless."""
    from pypdf import PdfReader

    from core.documents.synth import bundled_fonts, render_page

    w, h = (round(i * 150) for i in A4_INCHES)
    text = Image.fromarray(render_page(np.random.default_rng(0), (h, w), dpi=150, fonts=bundled_fonts()).image)
    page = next(clean_upload(model, encode(text, "PNG", dpi=(150, 150)), "letter.png", 150))
    assert Image.open(io.BytesIO(page.png("gray"))).mode == "L"
    assert Image.open(io.BytesIO(page.png("bw"))).mode == "1"
    paper, gray = (np.asarray(Image.open(io.BytesIO(page.png(mode)))) for mode in ("bw", "gray"))
    # Black & white: all the cleaned ink (127, 128 hold 0.5 after rounding), grown only over pixels the cleaner
    # left darker than FAINT (a gray level above ceil(255 FAINT) was lighter than FAINT before rounding), so the rest
    # stays paper.
    assert paper[gray <= 126].sum() == 0 and paper[gray >= math.ceil(255 * FAINT) + 1].all()
    bw, gray = pdf_bytes([page], "bw"), pdf_bytes([page], "gray")
    reader = PdfReader(io.BytesIO(bw))
    image = next(iter(reader.pages[0]["/Resources"]["/XObject"].values())).get_object()
    assert list(image["/Filter"]) == ["/CCITTFaxDecode"] and image["/BitsPerComponent"] == 1
    assert [round(float(v) / 72, 2) for v in reader.pages[0].mediabox[2:]] == [8.27, 11.69]  # A4 at its dpi
    print(f"A4 150 dpi PDF: black & white {len(bw) / 1024:.0f} kB, gray {len(gray) / 1024:.0f} kB")
    assert len(bw) < 100_000 and len(bw) < len(gray) / 5


# ---- the command line ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_names_outputs_after_their_files_and_skips_the_pages_over_the_limit(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    page = scan()
    page.save(src / "letter.pdf", "PDF", resolution=100)
    page.save(src / "memo.pdf", "PDF", save_all=True, append_images=[page], resolution=100)
    page.save(src / "a.png")
    page.convert("RGB").save(src / "a.jpg")
    (src / "poster.pdf").write_bytes(blank_pdf(2, (60, 60)))  # 81 megapixels a page at 150 dpi
    assert main([str(src), "--out", str(tmp_path / "out"), "--quiet", "--mode", "bw"]) == 1
    err = capsys.readouterr().err  # the CLI has no per-file limits: each page is refused on its own
    for page in (1, 2):
        assert f"skipped {src / 'poster.pdf'}: `poster.pdf` page {page} is 60.0×60.0 inches" in err
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["a-2.png", "a.png", "letter.png", "memo-page001.png", "memo-page002.png"]
    assert {Image.open(tmp_path / "out" / n).mode for n in names} == {"1"}
    assert main([str(src / "letter.pdf"), "--out", str(tmp_path / "gray"), "--quiet"]) == 0
    assert Image.open(tmp_path / "gray" / "letter.png").mode == "L"


@pytest.mark.slow
def test_cli_cleans_a_40_megapixel_page_and_refuses_the_drawn_bomb_under_2_gb(tmp_path):
    (tmp_path / "poster.pdf").write_bytes(blank_pdf(1))  # 6300 × 6300 at 150 dpi: 39.7 MP, inside every limit
    (tmp_path / "invoice.pdf").write_bytes(pdf_drawing_image())
    out, peak_mb = vm_hwm_mb("import sys; from core.clean import main; print('status', main(sys.argv[1:]))",
                             str(tmp_path / "poster.pdf"), str(tmp_path / "invoice.pdf"), "--out",
                             str(tmp_path / "out"), "--quiet")
    assert "status 1" in out.stdout and "invoice.pdf: `invoice.pdf` page 1 draws images" in out.stderr
    assert Image.open(tmp_path / "out" / "poster.png").size == (6300, 6300)
    print(f"CLI peak {peak_mb:.0f} MB")
    assert peak_mb < 2048


def damaged_weights(tmp_path: Path, how: str) -> Path:
    """A copy of the document model in ``tmp_path``, damaged as ``how`` says; returns the .keras path."""
    import keras

    model, card = tmp_path / "documents.keras", tmp_path / "documents.json"
    shutil.copy(ROOT / "weights" / model.name, model)
    shutil.copy(ROOT / "weights" / card.name, card)
    if how == "card":
        data = bytearray(card.read_bytes())
        data[0] ^= 0x01  # "{" becomes "z"
        card.write_bytes(bytes(data))
    elif how == "checksum":
        data = bytearray(model.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model.write_bytes(bytes(data))
    elif how == "lambda":  # a foreign model with a matching checksum: safe_mode must refuse the Lambda layer
        inputs = keras.Input((None, None, 1))
        keras.Model(inputs, keras.layers.Lambda(lambda t: t * 0 + os.getpid())(inputs)).save(model)
        from core.card import sha256

        card.write_text(json.dumps({"model": "documents", "sha256": sha256(model)}))
    return model


@pytest.mark.parametrize("how, words", [("card", "documents.json cannot be read"),
                                        ("checksum", "does not match its model card"),
                                        ("lambda", "safe_mode on (ValueError: Requested the deserialization "
                                                    "of a `Lambda`")])
def test_cli_says_in_one_line_what_is_wrong_with_the_weights(tmp_path, capsys, how, words):
    model = damaged_weights(tmp_path, how)
    (tmp_path / "scan.png").write_bytes(encode(scan(), "PNG"))
    assert main([str(tmp_path / "scan.png"), "--out", str(tmp_path / "out"), "--model", str(model), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and words in err


def test_damaged_embedding_is_refused_by_its_checksum(tmp_path):
    from core.serving.vae import LatentError, load_embedding

    shutil.copy(config.card_path(config.VAE_ENCODER), tmp_path)
    data = bytearray(config.VAE_EMBEDDING_PATH.read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / config.VAE_EMBEDDING_PATH.name).write_bytes(bytes(data))
    with pytest.raises(LatentError, match="does not match the SHA-256"):
        load_embedding(tmp_path / config.VAE_EMBEDDING_PATH.name)


# ---- the pages ----------------------------------------------------------------------------------------

def upload(files: list[tuple[str, bytes]], dpi: int = 150, mode: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=600).run()
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files])
    at.select_slider[0].set_value(dpi)
    if mode:
        at.radio(key="mode").set_value(mode)
    return at.run()


@pytest.mark.slow
def test_page_refuses_huge_pdfs_by_name_and_cleans_every_odd_but_legal_file():
    strip = encode(Image.new("L", (1, 100_000), 230), "PNG")
    at = upload([("poster.pdf", blank_pdf(50)), ("invoice.pdf", pdf_drawing_image()), ("strip.png", strip),
                 ("photo.jpg", with_profile("JPEG", 5_000_000)), ("scan.png", with_profile("PNG", 1_500_000)),
                 ("letter.pdf", encode(scan(), "PDF", resolution=100))])
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 2 and "`poster.pdf` is 1984 megapixels" in errors[0] and "`invoice.pdf`" in errors[1]
    assert at.selectbox[0].options == ["strip.png", "photo.jpg", "scan.png", "letter.pdf"]
    for option in ["photo.jpg", "strip.png", "letter.pdf"]:  # the zoom viewer of each works
        at.selectbox[0].set_value(option).run()
        assert not at.exception and len(at.image) == 4
    assert at.get("download_button")[-1].label == "Download `letter.png`, clean gray"
    at.radio(key="mode").set_value("bw").run()
    assert not at.exception and at.image[1].proto.imgs[0].caption == "cleaned, black & white"


@pytest.mark.slow
def test_page_keeps_each_upload_within_its_budget(monkeypatch):
    monkeypatch.setattr(limits, "MAX_JOB_PIXELS", 2 * 240 * 200)
    at = upload([(f"{n}.png", encode(scan(), "PNG")) for n in "abc"])
    assert not at.exception
    assert len(at.error) == 1 and "`c.png`" in at.error[0].value and "does not fit" in at.error[0].value
    assert at.selectbox[0].options == ["a.png", "b.png"]


@pytest.mark.slow
def test_page_shows_names_as_typed_in_code_spans():
    at = upload([("**bold** :red[x] $x$\u202e.png", encode(scan(), "PNG")), ("_it_.png", b"junk")])
    assert not at.exception
    assert at.error[0].value.startswith("`_it_.png`")
    # a name Windows takes
    assert at.get("download_button")[-1].label == "Download `__bold__ _red[x] $x$.png`, clean gray"


@pytest.mark.slow
def test_page_with_a_40_megapixel_pdf_page_stays_under_2_gb(tmp_path):
    (tmp_path / "poster.pdf").write_bytes(blank_pdf(1))
    code = ("import sys; from streamlit.testing.v1 import AppTest;"
            f"at = AppTest.from_file({PAGE!r}, default_timeout=600).run();"
            "at.file_uploader[0].set_value([('poster.pdf', open(sys.argv[1], 'rb').read(), 'application/pdf')]);"
            "at.run(); assert not at.exception and not at.error, at.error;"
            "print('downloads', len(at.get('download_button')))")
    out, peak_mb = vm_hwm_mb(code, str(tmp_path / "poster.pdf"))
    assert "downloads 5" in out.stdout  # ZIP, PDF, searchable PDF, text, the page
    print(f"page peak {peak_mb:.0f} MB")
    assert peak_mb < 2048


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """The shipped weights copied to a folder the pages read instead; model caches emptied before and after."""
    import streamlit as st

    folder = tmp_path / "weights"
    shutil.copytree(config.WEIGHTS_DIR, folder, ignore=shutil.ignore_patterns("fashion_mnist_test*"))
    monkeypatch.setattr(config, "WEIGHTS_DIR", folder)
    monkeypatch.setattr(config, "VAE_EMBEDDING_PATH", folder / config.VAE_EMBEDDING_PATH.name)
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


def flip(path: Path, at: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if at is None else at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize("how", ["card", "checksum", "lambda"])
def test_clean_documents_page_explains_damaged_weights(weights_dir, how):
    damaged_weights(weights_dir, how)
    at = upload([("scan.png", encode(scan(), "PNG"))])
    assert not at.exception
    assert len(at.error) == 1 and "document cleaner is unavailable" in at.error[0].value


@pytest.mark.parametrize("script", ["app.py", "pages/denoise.py"])  # the app opens on Home
def test_a_damaged_denoiser_card_is_a_message(weights_dir, script):
    flip(weights_dir / "denoiser.json", at=0)
    at = AppTest.from_file(str(ROOT / script), default_timeout=300).run()
    assert not at.exception
    assert any("denoiser.json cannot be read" in w.value for w in at.warning)


def test_a_damaged_embedding_is_a_message_on_the_latent_explorer(weights_dir):
    flip(weights_dir / config.VAE_EMBEDDING_PATH.name)
    at = AppTest.from_file(str(ROOT / "pages" / "latent_explorer.py"), default_timeout=300).run()
    assert not at.exception
    assert len(at.error) == 1 and "does not match the SHA-256" in at.error[0].value
