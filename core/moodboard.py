"""The designer's mood board: items kept from the latent explorer (their points on the map, where each was kept
from and the class the map puts there), written as one contact-sheet PNG and a CSV of the points, and read back.

The PNG carries the CSV and its layout in text chunks, so either file reopens the board; its tiles are the items
enlarged by nearest neighbour, so the 28×28 items can be read back exactly.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin, UnidentifiedImageError

from core.config import CLASS_NAMES, IMAGE_SIZE
from core.render import to_uint8

MAX_ITEMS = 48  # on one board
CSV_COLUMNS = ("z1", "z2", "source", "label")
MAX_SOURCE_CHARS = 40
Z_LIMIT = 8.0  # a board's points stay within the explorer's ±8 (the prior puts 99.99 % of its mass within ±4)
SHEET = {"columns": 6, "scale": 4, "gap": 6, "caption": 18}  # tile = 28·scale pixels, a caption line under it
PNG_KEYS = ("moodboard-layout", "moodboard-csv")


class BoardError(ValueError):
    """A board file cannot be read; the message names the file and says why."""


@dataclass(frozen=True)
class BoardItem:
    """One kept item: its point, where it was kept from ("pad", "random Dress", "variation", …) and the class
    the map puts there ("" when unknown)."""

    z1: float
    z2: float
    source: str
    label: str = ""


def board_csv(items: list[BoardItem]) -> str:
    """The board's points as CSV: a header row (CSV_COLUMNS), then one row per item, z to 3 decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows((f"{i.z1:.3f}", f"{i.z2:.3f}", i.source, i.label) for i in items)
    return out.getvalue()


def read_board_csv(text: str, name: str = "the CSV") -> list[BoardItem]:
    """Items from a board's CSV (``board_csv``); BoardError naming the file and the row when it is not one."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip() for c in rows[0][: len(CSV_COLUMNS)]) != CSV_COLUMNS:
        raise BoardError(f"`{name}` is not a mood board: its first row must be {','.join(CSV_COLUMNS)}.")
    items = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            z1, z2 = float(row[0]), float(row[1])
            source, label = (row + ["", ""])[2:4]
            if not (math.isfinite(z1) and math.isfinite(z2) and max(abs(z1), abs(z2)) <= Z_LIMIT):
                raise ValueError(f"z must be finite numbers within ±{Z_LIMIT:g}")
            if label and label not in CLASS_NAMES:
                raise ValueError(f"unknown class {label!r}")
        except (ValueError, IndexError) as e:
            raise BoardError(f"`{name}` row {number} is not a point ({e}).") from None
        items.append(BoardItem(z1, z2, source.strip()[:MAX_SOURCE_CHARS], label))
    if len(items) > MAX_ITEMS:
        raise BoardError(f"`{name}` holds {len(items)} items; a board keeps at most {MAX_ITEMS}.")
    return items


def contact_sheet(items: list[BoardItem], images: np.ndarray) -> bytes:
    """The board as one PNG: the items (images (N, 28, 28) in [0, 1]) in rows of SHEET["columns"], each with its
    number and class under it; the CSV and the layout ride along in text chunks."""
    if len(items) != len(images) or not items:
        raise BoardError(f"a contact sheet needs one image per item and at least one item ({len(items)} items, "
                         f"{len(images)} images)")
    columns, scale, gap, caption = (SHEET[k] for k in ("columns", "scale", "gap", "caption"))
    tile = IMAGE_SIZE * scale
    cols, rows = min(columns, len(items)), math.ceil(len(items) / columns)
    sheet = Image.new("L", (gap + cols * (tile + gap), gap + rows * (tile + caption + gap)), 255)
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=caption - 5)
    for n, (item, image) in enumerate(zip(items, to_uint8(images))):
        x, y = gap + (n % columns) * (tile + gap), gap + (n // columns) * (tile + caption + gap)
        sheet.paste(Image.fromarray(image, "L").resize((tile, tile), Image.Resampling.NEAREST), (x, y))
        draw.text((x, y + tile + 2), f"{n + 1} · {item.label or item.source}", fill=0, font=font)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(PNG_KEYS[0], json.dumps(SHEET | {"count": len(items)}))
    info.add_itxt(PNG_KEYS[1], board_csv(items))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def read_contact_sheet(data: bytes, name: str = "the PNG") -> tuple[list[BoardItem], np.ndarray]:
    """The items and their images (uint8 (N, 28, 28)) from a contact sheet this module wrote; BoardError
    naming the file otherwise."""
    try:
        sheet = Image.open(io.BytesIO(data))
        sheet.load()
        layout, text = (sheet.text[k] for k in PNG_KEYS) if hasattr(sheet, "text") else (None, None)
    except (UnidentifiedImageError, OSError, KeyError, SyntaxError, ValueError):
        raise BoardError(f"`{name}` is not a mood board saved by this app (its contact-sheet PNG).") from None
    try:
        layout = json.loads(layout)
        columns, scale, gap, caption, count = (int(layout[k]) for k in ("columns", "scale", "gap", "caption",
                                                                          "count"))
    except (ValueError, TypeError, KeyError):
        raise BoardError(f"`{name}` has a damaged mood-board layout.") from None
    items = read_board_csv(text, name)
    tile = IMAGE_SIZE * scale
    pixels = np.asarray(sheet.convert("L"))
    centres = (np.arange(IMAGE_SIZE) * scale + scale // 2)
    images = []
    for n in range(count):
        x, y = gap + (n % columns) * (tile + gap), gap + (n // columns) * (tile + caption + gap)
        if y + tile > pixels.shape[0] or x + tile > pixels.shape[1]:
            raise BoardError(f"`{name}` is smaller than its layout says: cropped or resized?")
        images.append(pixels[np.ix_(y + centres, x + centres)])
    if len(items) != count:
        raise BoardError(f"`{name}` lists {len(items)} points for {count} pictures.")
    return items, np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)


def point_query(z: tuple[float, float]) -> dict[str, str]:
    """A point as the explorer's URL query (``?z1=…&z2=…``), to 3 decimals as the z inputs show it."""
    return {"z1": f"{z[0]:.3f}", "z2": f"{z[1]:.3f}"}


def read_point_query(query: dict[str, str]) -> tuple[float, float] | None:
    """The point a URL query names (``point_query``); None when it names none; BoardError saying what is wrong
    when its z1 or z2 is no usable number."""
    if "z1" not in query and "z2" not in query:
        return None
    try:
        z = (float(query["z1"]), float(query["z2"]))
    except (KeyError, ValueError):
        raise BoardError(f"the link's point (z1={query.get('z1')!r}, z2={query.get('z2')!r}) needs two "
                         "numbers") from None
    if not (all(math.isfinite(v) for v in z) and max(abs(v) for v in z) <= Z_LIMIT):
        raise BoardError(f"the link's point {z} lies off the map (|z| ≤ {Z_LIMIT:g})")
    return round(z[0], 3), round(z[1], 3)
