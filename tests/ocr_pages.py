"""Pages with known text and known word boxes, for the OCR, straightening and searchable-PDF tests."""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from core.documents.synth import bundled_fonts

TEXT = ("Invoice number 4711 for the annual meeting\n"
        "Please pay the total amount of 250.00 by March\n"
        "The committee approved the budget and schedule\n"
        "Delivery terms and conditions are enclosed\n"
        "Signed by the office manager on Tuesday\n"
        "Reference section seven of the contract")


def crafted_page(size: tuple[int, int] = (1000, 1300), px: int = 32, dpi: int = 150
                 ) -> tuple[Image.Image, list[tuple[str, tuple[int, int, int, int]]]]:
    """A white page ("L", ``size`` = (width, height)) with ``TEXT`` in black, and each word's ink box."""
    font = ImageFont.truetype(str(bundled_fonts()[0][0]), px)
    image = Image.new("L", size, 255)
    image.info["dpi"] = (dpi, dpi)
    draw = ImageDraw.Draw(image)
    words, y = [], size[1] // 8
    for line in TEXT.splitlines():
        x = size[0] // 12
        for word in line.split():
            draw.text((x, y), word, font=font, fill=0)
            box = draw.textbbox((x, y), word, font=font)
            words.append((word, box))
            x = box[2] + int(font.getlength(" "))
        y += int(px * 2.2)
    return image, words


def turned(image: Image.Image, quarter: int, skew: float) -> Image.Image:
    """``image`` rotated ``skew`` degrees anticlockwise, then a quarter turn anticlockwise."""
    return image.rotate(skew, Image.Resampling.BICUBIC, fillcolor=255).rotate(quarter, expand=True)
