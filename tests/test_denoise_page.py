"""Streamlit AppTest of the Denoise page: renders, reacts to sliders, survives bad uploads."""
import io

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "denoise.py")


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    return at


def metric_values(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def test_page_renders_clean_noisy_and_restored_items(page):
    captions = [c.value for c in page.caption]
    assert any("T-shirt/top #0" in c for c in captions)
    # PSNR + SSIM for noisy, median and the shipped autoencoder.
    assert len(page.metric) == 6
    assert any(b.label.startswith("Download side by side") for b in page.get("download_button"))


def test_moving_the_amount_slider_changes_the_scores(page):
    before = metric_values(page)
    page.slider[0].set_value(0.4).run()
    assert not page.exception
    after = metric_values(page)
    assert after != before
    assert float(after[0].split()[0]) < float(before[0].split()[0])  # more noise, lower PSNR


@pytest.mark.slow
def test_switching_noise_kind(page):
    page.selectbox[1].set_value("gaussian").run()
    assert not page.exception
    assert page.slider[0].label.startswith("Amount (σ)")


def upload(page: AppTest, name: str, data: bytes) -> AppTest:
    page.radio[0].set_value("Upload your own image").run()
    page.get("file_uploader")[0].set_value((name, data, "image/png"))
    return page.run()


@pytest.mark.slow
def test_a_text_file_named_png_gets_a_clear_message(page):
    at = upload(page, "notes.png", b"this is not an image at all")
    assert not at.exception
    assert len(at.error) == 1 and "`notes.png` is not an image" in at.error[0].value


@pytest.mark.slow
def test_an_uploaded_photo_is_converted_and_denoised(page):
    img = Image.new("RGB", (120, 90), "white")
    img.paste((200, 30, 30), (30, 10, 90, 80))  # a dark-red "shirt" on a light background
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    at = upload(page, "shirt.jpg", buf.getvalue())
    assert not at.exception and not at.error
    assert len(at.metric) >= 4  # noisy + median scores at least, so the item went through


@pytest.mark.slow
def test_without_the_shipped_test_items_the_page_names_the_file_and_offers_uploads(monkeypatch, tmp_path):
    import streamlit as st

    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr("core.data.FASHION_MNIST_TEST_DIR", tmp_path / "fashion_mnist_test")
    monkeypatch.setattr("core.data.FASHION_MNIST_DIRS", ())
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(PAGE, default_timeout=120).run()
        assert not at.exception
        assert any("t10k-images-idx3-ubyte.gz is missing" in i.value for i in at.info)
        assert at.radio[0].options == ["Upload your own image"]
        assert len(at.get("file_uploader")) == 1
    finally:
        st.cache_resource.clear()
