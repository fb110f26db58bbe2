import numpy as np
from PIL import Image

from core.imageio import to_fashion_item


def test_dark_object_on_light_background_becomes_light_on_dark_and_fills_the_frame():
    canvas = np.full((200, 100), 240, np.uint8)
    canvas[50:150, 30:70] = 20  # a dark, tall object
    item = to_fashion_item(Image.fromarray(canvas, "L"))
    assert item.shape == (28, 28) and item.dtype == np.float32
    assert item[14, 14] > 0.9 and item[14, 1] < 0.05  # light centre, dark sides
    assert item[0, 14] > 0.5 and item[27, 14] > 0.5  # the tall object spans the full height


def test_blank_image_stays_blank():
    item = to_fashion_item(Image.new("L", (10, 10), 0))
    assert item.max() == 0.0


def test_one_pixel_strip_is_handled():
    item = to_fashion_item(Image.new("L", (1, 2000), 255))
    assert item.shape == (28, 28)
