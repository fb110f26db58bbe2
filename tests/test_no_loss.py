"""Archives without loss (issue 35): nothing overwritten, nothing dropped, bounded decode cost. Each case of the
issue is numbered below; every file is crafted here, small. The Ray path's cases: tests/test_archive.py."""
from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, PngImagePlugin

from core.atomic import WriteError, write_file
from core.clean import main
from core.imageio import InputError, open_upload, tiff_pages, to_fashion_item
from core.limits import MAX_PAGES
from core.naming import NamePlan, page_name, page_stem, safe_folder, safe_part, stem_of
from tests.conftest import ROOT


# ---- files made here ----------------------------------------------------------------------------------

def scan(seed: int = 0, size: tuple[int, int] = (90, 70)) -> Image.Image:
    """A small gray page: dark strokes on light, uneven paper."""
    rng = np.random.default_rng(seed)
    page = 200 + rng.integers(0, 40, size[::-1])
    page[10:14, 5:-5] = 30
    return Image.fromarray(page.astype(np.uint8), "L")


def pdf_of(images: list[Image.Image], path: Path | None = None) -> bytes:
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=100)
    if path:
        path.write_bytes(buf.getvalue())
    return buf.getvalue()


def big_image(pdf: pikepdf.Pdf, side: int = 46000) -> pikepdf.Stream:
    """An image that claims side² pixels with a few bytes of data: refused before anything decodes it."""
    return pikepdf.Stream(pdf, zlib.compress(b"\0" * 64), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                          Width=side, Height=side, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8,
                          Filter=pikepdf.Name.FlateDecode)


def drawing(pdf: pikepdf.Pdf, image: pikepdf.Stream, **extra) -> pikepdf.Stream:
    return pikepdf.Stream(pdf, b"q 200 0 0 200 0 0 cm /Im0 Do Q", Type=pikepdf.Name.XObject,
                          Subtype=pikepdf.Name.Form, BBox=[0, 0, 200, 200],
                          Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)), **extra)


def hidden_bomb(where: str) -> bytes:
    """A one-page PDF drawing a 46000² image from an annotation, a tiling pattern or a soft mask: none of
    them is an image object of the page, which was all the check counted (2.3-2.9 GB when rendered)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page, image, Name = pdf.pages[0], big_image(pdf), pikepdf.Name
    if where == "annotation":
        stamp = pikepdf.Dictionary(Type=Name.Annot, Subtype=Name.Stamp, Rect=[0, 0, 200, 200],
                                   AP=pikepdf.Dictionary(N=drawing(pdf, image)))
        page.obj["/Annots"] = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(stamp)]))
    elif where == "pattern":
        tile = pikepdf.Stream(pdf, b"q 200 0 0 200 0 0 cm /Im0 Do Q", Type=Name.Pattern, PatternType=1, PaintType=1,
                              TilingType=1, BBox=[0, 0, 200, 200], XStep=200, YStep=200,
                              Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)))
        page.obj["/Resources"] = pikepdf.Dictionary(Pattern=pikepdf.Dictionary(P0=tile))
        page.obj["/Contents"] = pdf.make_stream(b"/Pattern cs /P0 scn 0 0 200 200 re f")
    else:  # a soft mask whose group draws the image
        group = drawing(pdf, image, Group=pikepdf.Dictionary(S=Name.Transparency, CS=Name.DeviceGray))
        state = pikepdf.Dictionary(Type=Name.ExtGState,
                                   SMask=pikepdf.Dictionary(Type=Name.Mask, S=Name.Luminosity, G=group))
        page.obj["/Resources"] = pikepdf.Dictionary(ExtGState=pikepdf.Dictionary(G0=state))
        page.obj["/Contents"] = pdf.make_stream(b"/G0 gs 0 0 200 200 re f")
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def pdf_with_a_bad_page(path: Path, pages: int = 3, bad: int = 1) -> None:
    """A PDF whose page ``bad`` (0-based) draws a 9000×9000 scan (81 megapixels): the others are fine."""
    pdf = pikepdf.open(io.BytesIO(pdf_of([scan(i) for i in range(pages)])))
    page = pdf.pages[bad]
    page.obj["/Resources"]["/XObject"]["/Big"] = big_image(pdf, 9000)
    pdf.save(path)


def many_page_tiff(pages: int) -> bytes:
    """A classic TIFF of ``pages`` 1×1 white pages, directories chained one after the other (~30 bytes a page)."""
    strip = 8
    body, first = bytearray(b"\xff"), 9
    for i in range(pages):
        at = first + len(body) - 1
        tags = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, strip),
                (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
        nxt = at + 2 + 12 * len(tags) + 4 if i < pages - 1 else 0
        body += struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + struct.pack("<I", nxt)
    return b"II*\x00" + struct.pack("<I", first) + bytes(body)


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative POSIX path → SHA-256)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- the naming plan (13, and the names of 3) -----------------------------------------------------------

def test_names_are_unique_case_insensitively_windows_safe_and_never_an_inputs():
    plan = NamePlan()
    plan.reserve("", "letter.png")  # an input inside the output folder
    stems = [plan.claim("", n) for n in ["A.png", "a.png", "CON.png", "aux.tif", "letter.png", "scan-page001.png",
                                         "scan.pdf", "trail. .png", "sub/x.png"]]
    assert stems == ["A", "a-2", "CON_", "aux_", "letter-2", "scan-page001", "scan-2", "trail", "x"]
    assert [page_name("scan-2", i, 2) for i in range(2)] == ["scan-2-page001.png", "scan-2-page002.png"]
    assert plan.claim("Sub", "x.png") == "x" and plan.claim("sub", "X.png") == "X-2"  # folders fold case too
    assert safe_part('a<b>c:d"e|f?g*h') == "a_b_c_d_e_f_g_h" and stem_of(".hidden.png") == "hidden"
    assert safe_folder("/a/CON/b./") == "a/CON_/b" and safe_folder(".") == ""
    assert safe_part("\u202egnp.png\x07") == "gnp.png"  # bidi and control characters dropped, as shown
    assert page_stem("sub/scan-2-page002.png", 2) == "scan-2" and page_stem("a-page001.png", 1) == "a-page001"


def test_a_stem_claims_its_whole_page_namespace_in_either_order():
    first = NamePlan()
    assert [first.claim("", "scan.pdf"), first.claim("", "scan-page001.png")] == ["scan", "scan-page001-2"]
    later = NamePlan()
    assert [later.claim("", "scan-page001.png"), later.claim("", "scan.pdf")] == ["scan-page001", "scan-2"]


# ---- 1, 2, 12: inputs never written, the output folder never read, --out errors ---------------------------

def test_out_as_the_input_folder_is_refused_and_nothing_is_touched(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    scan(0).save(scans / "letter.png")
    before = tree(scans)
    assert main([str(scans), "--out", str(scans), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out") and "input folder" in err[0]
    assert tree(scans) == before


def test_a_file_cleaned_into_its_own_folder_keeps_the_original(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scan(0).save("letter.png")
    original = Path("letter.png").read_bytes()
    for _ in range(2):  # the same name on every run: the input's name is never taken
        assert main(["letter.png", "--out", ".", "--quiet"]) == 0
        assert Path("letter.png").read_bytes() == original
        assert sorted(tree(tmp_path)) == ["letter-2.png", "letter.png"]


def test_an_output_folder_inside_the_input_is_never_read_back(tmp_path):
    scans = tmp_path / "scans"
    (scans / "sub").mkdir(parents=True)
    scan(0).save(scans / "letter.png")
    scan(1).save(scans / "sub" / "memo.png")
    originals = tree(scans)
    outputs = []
    for _ in range(3):
        assert main([str(scans), "--out", str(scans / "cleaned"), "--quiet"]) == 0
        outputs.append(sorted(tree(scans / "cleaned")))
    assert outputs == [["letter.png", "sub/memo.png"]] * 3  # sub-folders kept, nothing cleaned twice
    assert {k: v for k, v in tree(scans).items() if not k.startswith("cleaned/")} == originals


def test_out_naming_a_file_is_one_error_line_with_status_2(tmp_path, capsys):
    scan(0).save(tmp_path / "a.png")
    (tmp_path / "out.txt").write_text("keep me")
    assert main([str(tmp_path / "a.png"), "--out", str(tmp_path / "out.txt"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out") and "is a file" in err[0]
    assert (tmp_path / "out.txt").read_text() == "keep me"


# ---- 3, 13: every page written once, under its own name ------------------------------------------------

def test_pages_whose_names_would_meet_all_get_their_own_file(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    pdf_of([scan(0), scan(1)], scans / "scan.pdf")
    for name, seed in [("scan-page001.png", 2), ("A.png", 3), ("a.png", 4), ("CON.png", 5)]:
        scan(seed).save(scans / name)
    assert main([str(scans), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    written = sorted(tree(tmp_path / "out"))
    assert written == ["A.png", "CON_.png", "a-2.png", "scan-2-page001.png", "scan-2-page002.png",
                       "scan-page001.png"]
    assert len({n.casefold() for n in written}) == 6
    assert "6 page(s) written" in capsys.readouterr().out


# ---- 4: atomic writes, errors naming the output -----------------------------------------------------------

WRITE_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
from core.atomic import WriteError, write_file
try:
    write_file(sys.argv[2], b"x" * int(sys.argv[3]))
except WriteError as e:
    print(e)
    sys.exit(1)
"""


def test_a_write_that_fails_part_way_leaves_the_earlier_file_and_no_partial(tmp_path):
    target = tmp_path / "out" / "page.png"
    write_file(target, b"good earlier output")
    run = subprocess.run([sys.executable, "-c", WRITE_LIMITED, "1000", str(target), "5000"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    assert str(target) in run.stdout and "File too large" in run.stdout  # names the output and the reason
    assert target.read_bytes() == b"good earlier output"
    assert [p.name for p in target.parent.iterdir()] == ["page.png"]


def test_a_write_into_a_folder_that_cannot_exist_names_the_output(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match=r"could not write .*file/page.png"):
        write_file(tmp_path / "file" / "page.png", b"png")


@pytest.mark.slow
def test_the_cli_on_a_full_disk_keeps_earlier_outputs_and_blames_the_output(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for i in range(2):
        scan(i, (300, 300)).save(scans / f"p{i}.png")
    out = tmp_path / "out"
    assert main([str(scans), "--out", str(out), "--quiet"]) == 0
    before = tree(out)
    code = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.RLIM_INFINITY));"
            "from core.clean import main; sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, str(scans), "--out", str(out), "--quiet"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert tree(out) == before  # nothing truncated, no partial file left
    failed = [line for line in run.stderr.splitlines() if line.startswith("skipped")]
    assert len(failed) == 2 and all(f"could not write {out}" in f and "File too large" in f for f in failed)


# ---- 6, 7: page by page, any page count --------------------------------------------------------------------

def test_one_bad_page_is_skipped_and_the_others_kept(tmp_path, capsys):
    pdf_with_a_bad_page(tmp_path / "book.pdf", pages=4, bad=1)
    assert main([str(tmp_path / "book.pdf"), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert sorted(tree(tmp_path / "out")) == ["book-page001.png", "book-page003.png", "book-page004.png"]
    err = capsys.readouterr().err
    assert "`book.pdf` page 2 draws images of 81.0 megapixels (the largest 9000×9000)" in err
    with pytest.raises(InputError, match="page 2 draws images"):  # the app still refuses the file whole
        open_upload((tmp_path / "book.pdf").read_bytes(), "book.pdf")


def test_the_command_line_takes_more_pages_than_an_upload(tmp_path):
    count = MAX_PAGES + 2
    pdf_of([scan(i % 3, (40, 30)) for i in range(count)], tmp_path / "book.pdf")
    frames = [scan(i % 3, (40, 30)) for i in range(count)]
    frames[0].save(tmp_path / "stack.tif", save_all=True, append_images=frames[1:])
    for name in ["book.pdf", "stack.tif"]:
        with pytest.raises(InputError, match="limit is 50"):
            open_upload((tmp_path / name).read_bytes(), name)
    assert main([str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    written = tree(tmp_path / "out")
    assert len(written) == 2 * count and f"book-page{count:03d}.png" in written and "stack-page001.png" in written


def test_a_page_cut_out_of_a_pdf_keeps_its_number_in_messages(tmp_path):
    pdf_with_a_bad_page(tmp_path / "book.pdf", pages=3, bad=2)
    from core.archive import _pages
    cut = _pages((tmp_path / "book.pdf").read_bytes(), "book.pdf", 150)
    with pytest.raises(InputError) as whole, open_upload((tmp_path / "book.pdf").read_bytes(), "book.pdf",
                                                          whole=False) as upload:
        upload.page(2)
    with pytest.raises(InputError) as alone, open_upload(cut[2][0], "book.pdf", whole=False, first=2) as upload:
        upload.page(0)
    assert str(alone.value) == str(whole.value) and "page 3" in str(whole.value)


# ---- 8, 9, 10, 11: decode cost bounded before decoding; a PNG is a PNG --------------------------------

MEASURE = """
import io, sys
import numpy as np
from PIL import Image
from core.imageio import open_upload, shrink, to_fashion_item
w, h = map(int, sys.argv[1:3])
buf = io.BytesIO()
Image.new("L", (w, h), 255).save(buf, "PNG")
with open_upload(buf.getvalue(), "tall.png") as upload:
    item = to_fashion_item(shrink(upload.page(0).image))
assert item.shape == (28, 28) and np.isfinite(item).all()
print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])
"""


@pytest.mark.parametrize("size", [(1, 100_000), (1080, 20_000)])
def test_a_tall_denoise_upload_is_shrunk_before_it_is_padded(size):
    run = subprocess.run([sys.executable, "-c", MEASURE, *map(str, size)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout.split()[-1]) / 1024 < 1024  # MB: was 12.5 GB for 1×40000, MemoryError for 1×100000


def test_a_strip_still_becomes_a_centred_item():
    strip = Image.new("L", (1000, 30_000), 255)
    strip.paste(0, (400, 0, 600, 30_000))  # a dark bar on white, the length of the picture
    item = to_fashion_item(strip)
    assert item.shape == (28, 28) and (item[:, 13:15].max(axis=1) > 0).all()  # a thin bar, top to bottom
    assert max(item[:, :12].max(), item[:, 16:].max()) < 0.01  # in the middle


@pytest.mark.parametrize("where", ["annotation", "pattern", "soft mask"])
def test_images_drawn_outside_the_page_content_are_counted(where):
    data = hidden_bomb(where)
    with pytest.raises(InputError, match=r"`bomb.pdf` page 1 draws images of 2116 megapixels"):
        open_upload(data, "bomb.pdf")
    with open_upload(data, "bomb.pdf", whole=False) as upload, pytest.raises(InputError, match="draws images"):
        upload.page(0)


def test_a_tiff_of_100000_pages_is_counted_only_up_to_the_limit():
    data = many_page_tiff(100_000)
    assert len(tiff_pages(data)) == 100_000 and len(tiff_pages(data, MAX_PAGES)) == MAX_PAGES + 1
    with pytest.raises(InputError, match=f"`many.tif` has more than {MAX_PAGES} pages"):
        open_upload(data, "many.tif")
    with open_upload(many_page_tiff(3), "three.tif") as upload:  # the crafted file is a real TIFF
        assert upload.count == 3 and np.asarray(upload.page(2).image).tolist() == [[255]]


def test_a_png_with_pdf_in_a_text_chunk_is_read_as_a_png():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "%PDF-1.7 this is not a PDF")
    buf = io.BytesIO()
    scan(0).save(buf, "PNG", pnginfo=info)
    assert b"%PDF-" in buf.getvalue()[:1024]
    with open_upload(buf.getvalue(), "note.png") as upload:
        assert upload.page(0).image.size == (90, 70)

