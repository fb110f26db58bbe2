"""Every hostile or odd upload gets a clear InputError or decodes into sane grayscale pages."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.imageio import InputError, display_name, read_upload
from tests.hostile_corpus import Accept, Reject, cases, png_bomb

CASES = cases()


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_input_is_decoded_or_clearly_refused(case):
    if isinstance(case.expect, Reject):
        with pytest.raises(InputError) as err:
            read_upload(case.data, case.name)
        message = str(err.value)
        assert f"`{display_name(case.name)}`" in message  # names the file
        for word in case.expect.words:
            assert word in message
        assert "<" not in message and ">" not in message  # nothing HTML-like is echoed back
    else:
        pages = read_upload(case.data, case.name)
        assert len(pages) == case.expect.pages
        for page in pages:
            assert page.image.mode == "L"
            assert np.asarray(page.image).dtype == np.uint8
        if case.expect.size:
            assert pages[0].image.size == case.expect.size
        if case.expect.note:
            assert case.expect.note in (pages[0].note or "")


def test_sixteen_bit_white_stays_white():
    case = next(c for c in CASES if c.name == "gray16.png")
    assert np.asarray(read_upload(case.data, case.name)[0].image).min() == 255


def test_transparent_pixels_become_white_paper():
    case = next(c for c in CASES if c.name == "rgba.png")
    assert np.asarray(read_upload(case.data, case.name)[0].image).min() == 255


def test_file_names_lose_folders_and_markup():
    assert display_name("../../etc/passwd.png") == "passwd.png"
    assert display_name("C:\\Users\\me\\scan.png") == "scan.png"
    assert "<" not in display_name("<b>x</b>.png") and "`" not in display_name("a`b.png")
    assert display_name("") == "unnamed file"


@pytest.mark.slow
def test_bomb_is_small_on_disk():
    assert len(png_bomb()) < 1_000_000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.sampled_from(["x.png", "x.jpg", "x.tif", "x.pdf", "x.gif"]))
def test_fuzzed_bytes_raise_only_input_errors(data, name):
    try:
        read_upload(data, name)
    except InputError:
        pass


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4096), st.binary(min_size=1, max_size=64))
def test_fuzzed_corruptions_of_real_files_raise_only_input_errors(offset, junk):
    for case in CASES[9:29]:  # the accepted images
        if isinstance(case.expect, Accept):
            data = bytearray(case.data)
            at = offset % len(data)
            data[at : at + len(junk)] = junk
            try:
                read_upload(bytes(data), case.name)
            except InputError:
                pass
