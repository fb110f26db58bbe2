"""Your own garment: photos prepared the Fashion-MNIST way (core.serving.garment.prepare_garment), crafted from
real test items as product shots: white, light and gray backgrounds, off-centre, tall, tiny, transparent."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.data import load_test_set
from core.imageio import InputError
from core.garment import open_garment
from core.serving.vae import prepare_garment


@pytest.fixture(scope="module")
def items() -> np.ndarray:
    """Real Fashion-MNIST test items as uint8 (N, 28, 28)."""
    return load_test_set().images.reshape(-1, 28, 28)


def product_shot(item: np.ndarray, scale: int = 12, canvas: tuple[int, int] = (700, 500),
                 at: tuple[int, int] = (40, 30), background: int = 255, jpeg: int | None = 85,
                 noise: float = 0.0) -> Image.Image:
    """A photo as a shop would take it: the item dark on a plain background (Fashion-MNIST's inverse),
    enlarged smoothly, placed at ``at`` on a ``canvas`` (width, height), optionally noisy and JPEG-compressed."""
    shade = np.asarray(Image.fromarray(255 - item).resize((28 * scale,) * 2, Image.Resampling.BICUBIC)) / 255
    photo = np.full(canvas[::-1], float(background))
    photo[at[1] : at[1] + 28 * scale, at[0] : at[0] + 28 * scale] *= shade
    photo += np.random.default_rng(0).normal(0, noise * 255, photo.shape)
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).convert("RGB")
    if jpeg is None:
        return image
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=jpeg)
    return Image.open(io.BytesIO(buf.getvalue()))


def box(item: np.ndarray, level: float = 0.1) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(item > level)
    return rows.min(), rows.max(), cols.min(), cols.max()


def assert_item(got: np.ndarray) -> None:
    """A Fashion-MNIST-like item: 28×28 float32 in [0, 1], dark corners, a white top, centred."""
    assert got.shape == (28, 28) and got.dtype == np.float32
    assert got.min() >= 0 and got.max() == pytest.approx(1.0)
    assert max(got[0, 0], got[0, -1], got[-1, 0], got[-1, -1]) < 0.05
    top, bottom, left, right = box(got)
    assert abs((top + bottom) / 2 - 13.5) <= 1 and abs((left + right) / 2 - 13.5) <= 1


def close_to(got: np.ndarray, item: np.ndarray) -> float:
    """Mean squared error against the real item (both in [0, 1])."""
    return float(np.mean((got - item / 255) ** 2))


@pytest.mark.parametrize("background", [255, 230, 128])  # white, light gray, mid gray
def test_a_product_shot_off_centre_comes_back_as_its_item(items, background):
    errors = []
    for i in range(20):
        got = prepare_garment(product_shot(items[i], at=(20 + 12 * i, 10 + 3 * i), background=background))
        assert_item(got)
        errors.append(close_to(got, items[i]))
    # A plain resize-and-invert of the same photos (the garment off-centre, shrunk) is far worse.
    naive = [close_to(1 - np.asarray(product_shot(items[i], at=(20 + 12 * i, 10 + 3 * i), background=background)
                                     .convert("L").resize((28, 28), Image.Resampling.LANCZOS)) / 255, items[i])
             for i in range(20)]
    assert np.median(errors) < 0.03 and np.median(errors) < np.median(naive) / 3, (errors, naive)


def test_a_noisy_gray_photo_keeps_a_clean_dark_background(items):
    got = prepare_garment(product_shot(items[3], background=150, noise=0.03, jpeg=70))
    assert_item(got)
    assert close_to(got, items[3]) < 0.05  # the faintest parts are lost under the noise
    assert np.mean(got[items[3] == 0] == 0) > 0.8  # the plain background is exactly dark, as in the data


def test_a_tall_garment_fills_the_height_and_is_centred_across():
    photo = Image.new("L", (700, 900), 255)
    ImageDraw.Draw(photo).rectangle((300, 50, 400, 850), fill=40)  # 101 × 801: a scarf, say
    got = prepare_garment(photo)
    assert_item(got)
    top, bottom, left, right = box(got, 0.5)
    assert bottom - top + 1 == 28 and right - left + 1 <= 5


def test_a_tiny_picture_is_enlarged_to_fill_the_item(items):
    tiny = Image.fromarray(255 - items[1]).resize((9, 9), Image.Resampling.BOX)  # a thumbnail of a trouser
    got = prepare_garment(Image.merge("RGB", [tiny] * 3))
    assert_item(got)
    top, bottom, _, _ = box(got, 0.3)
    assert bottom - top + 1 >= 26


@pytest.mark.parametrize("colour", [(120, 20, 20), (250, 250, 250)])  # a dark red garment, a white one
def test_transparency_is_background_even_for_a_white_garment(items, colour):
    """A cut-out is composited on white, as Fashion-MNIST's shots were: it comes out where its silhouette alone
    (white on black) does, the background dark; a white garment faintly (its edges brightest), as the data
    shows white clothing."""
    alpha = Image.fromarray(np.where(items[0] > 0, 255, 0).astype(np.uint8)).resize((280, 280))
    cut_out = Image.new("RGBA", (400, 360), (0, 0, 0, 0))
    garment = Image.new("RGBA", (280, 280), colour + (255,))
    garment.putalpha(alpha)
    cut_out.paste(garment, (100, 20), garment)
    got = prepare_garment(cut_out)
    assert_item(got)
    silhouette = prepare_garment(cut_out.getchannel("A"))
    inside, outside = silhouette > 0.9, silhouette == 0
    assert got[outside].mean() < 0.02 and got[inside].mean() > 0.1 and inside.sum() > 150


def test_a_hanger_hook_above_the_garment_is_trimmed(items):
    plain = product_shot(items[0], at=(150, 120), canvas=(640, 520), jpeg=None)
    hung = plain.copy()
    draw = ImageDraw.Draw(hung)
    draw.line((318, 40, 318, 121), fill=30, width=4)  # the hook, above the shirt's collar
    draw.arc((300, 20, 336, 60), 180, 360, fill=30, width=4)
    np.testing.assert_allclose(prepare_garment(hung), prepare_garment(plain), atol=0.05)


def test_exif_orientation_is_applied(items):
    photo = product_shot(items[1], jpeg=None)  # a trouser, upright
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: "rotate 90° clockwise to view"
    buf = io.BytesIO()
    photo.rotate(90, expand=True).save(buf, "JPEG", quality=95, exif=exif)
    got = prepare_garment(Image.open(io.BytesIO(buf.getvalue())))
    assert close_to(got, items[1]) < 0.03


def test_a_large_photo_of_any_size(items):
    got = prepare_garment(product_shot(items[9], scale=120, canvas=(4000, 3500), at=(500, 100), jpeg=90))
    assert_item(got)
    assert close_to(got, items[9]) < 0.03


def test_uploads_decode_safely_and_keep_their_transparency(items):
    buf = io.BytesIO()
    rgba = Image.new("RGBA", (60, 40), (200, 0, 0, 0))
    rgba.save(buf, "PNG")
    assert open_garment(buf.getvalue(), "cut-out.png").mode == "RGBA"
    buf = io.BytesIO()
    product_shot(items[2]).save(buf, "JPEG")
    assert open_garment(buf.getvalue(), "shirt.jpg").size == (700, 500)
    with pytest.raises(InputError, match="`broken.jpg`"):
        open_garment(buf.getvalue()[:300], "broken.jpg")
    with pytest.raises(InputError, match="`notes.txt`"):
        open_garment(b"just some text", "notes.txt")


def text_page(size: int = 30, width: int = 850, height: int = 1100) -> Image.Image:
    """A page of text, as a scanner or a phone would give it: black print on white, with margins."""
    import textwrap

    from PIL import ImageFont

    page = Image.new("L", (width, height), 255)
    draw, font = ImageDraw.Draw(page), ImageFont.load_default(size=size)
    words = ("Minutes of the meeting held on the third of December. The committee reviewed the budget and "
             "agreed to meet again in the spring. ") * 4
    for k, line in enumerate(textwrap.wrap(words, round(1300 / size))[: (height - 120) // round(1.5 * size)]):
        draw.text((50, 60 + round(1.5 * size) * k), line, fill=0, font=font)
    return page


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.slow
def test_every_hostile_upload_becomes_an_item_or_a_message_naming_it():
    """The hostile corpus (tests/hostile_corpus.py) through the explorer's upload path."""
    from core.imageio import display_name
    from tests.hostile_corpus import Accept, cases

    for case in cases():
        try:
            item = prepare_garment(open_garment(case.data, case.name))
        except InputError as e:
            assert not isinstance(case.expect, Accept), (case.name, e)
            assert f"`{display_name(case.name)}`" in str(e), (case.name, e)
            continue
        assert item.shape == (28, 28) and item.dtype == np.float32 and 0 <= item.min() <= item.max() <= 1, case.name
