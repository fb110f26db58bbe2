"""The mood board's files (core.moodboard): the contact-sheet PNG and the CSV of points round-trip, bad files are
refused with their name, and a point survives the URL query."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.moodboard import (MAX_ITEMS, BoardError, BoardItem, board_csv, contact_sheet, point_query,
                            read_board_csv, read_contact_sheet, read_point_query)
from core.render import PRINT_METHODS, print_size, to_uint8

ITEMS = [BoardItem(0.5, -1.25, "pad", "Dress"), BoardItem(-2.0, 3.125, "random Sneaker", "Sneaker"),
         BoardItem(1.0, 0.0, "variation, with a comma", ""), BoardItem(-0.001, 7.5, "grid cell", "Bag"),
         BoardItem(0.25, 0.75, "your garment", "Coat"), BoardItem(3.0, -3.0, "pad", "Trouser"),
         BoardItem(-1.5, -0.5, "random sample", "Sandal")]  # seven: a second row on the sheet


def test_the_csv_round_trips_with_its_columns():
    text = board_csv(ITEMS)
    assert text.splitlines()[0] == "z1,z2,source,label" and text.splitlines()[1] == "0.500,-1.250,pad,Dress"
    assert read_board_csv(text) == ITEMS


def test_the_contact_sheet_round_trips_points_and_pictures():
    images = np.random.default_rng(0).random((len(ITEMS), 28, 28)).astype(np.float32)
    data = contact_sheet(ITEMS, images)
    sheet = Image.open(io.BytesIO(data))
    assert sheet.format == "PNG" and sheet.width > 6 * 112 and sheet.height > 2 * 112  # six a row, two rows
    items, pictures = read_contact_sheet(data, "board.png")
    assert items == ITEMS
    np.testing.assert_array_equal(pictures, to_uint8(images))


@pytest.mark.parametrize("text, says", [
    ("a,b\n1,2\n", "first row must be z1,z2,source,label"),
    ("z1,z2,source,label\n1,x,pad,\n", "row 2"),
    ("z1,z2,source,label\n1,2,pad,Dress\nnan,0,pad,\n", "row 3"),
    ("z1,z2,source,label\n1,99,pad,\n", "within ±8"),
    ("z1,z2,source,label\n1,2,pad,Spaceship\n", "unknown class"),
    ("z1,z2,source,label\n" + "0,0,pad,\n" * (MAX_ITEMS + 1), f"at most {MAX_ITEMS}"),
])
def test_a_bad_csv_is_refused_naming_the_file_and_row(text, says):
    with pytest.raises(BoardError, match="`board.csv`") as refused:
        read_board_csv(text, "board.csv")
    assert says in str(refused.value)


def test_a_picture_that_is_no_board_is_refused_naming_it():
    buf = io.BytesIO()
    Image.new("L", (50, 50)).save(buf, "PNG")
    for data in (buf.getvalue(), b"not a png", buf.getvalue()[:40]):
        with pytest.raises(BoardError, match="`holiday.png` is not a mood board"):
            read_contact_sheet(data, "holiday.png")


def test_a_point_survives_the_url_query():
    assert read_point_query(point_query((1.23456, -0.5))) == (1.235, -0.5)
    assert read_point_query({}) is None and read_point_query({"other": "1"}) is None
    for query in ({"z1": "abc", "z2": "1"}, {"z1": "1"}, {"z1": "inf", "z2": "0"}, {"z1": "9", "z2": "0"}):
        with pytest.raises(BoardError, match="the link's point"):
            read_point_query(query)


def test_print_size_is_smooth_unless_pixel_art_is_asked_for():
    item = np.zeros((28, 28), np.float32)
    item[7:21, 7:21] = 1.0
    smooth, blocky = (np.asarray(print_size(item, 1024, m)) for m in PRINT_METHODS)
    assert smooth.shape == blocky.shape == (1024, 1024)
    assert set(np.unique(blocky)) == {0, 255}  # nearest neighbour: the item's two levels only
    edge = smooth[512, 240:280]  # across the square's left edge, which lies at 7/28 of the width (256)
    assert len(np.unique(edge)) > 10 and np.all(np.diff(edge.astype(int)) >= -3)  # a gradual ramp, not a step
    with pytest.raises(ValueError, match="unknown resampling"):
        print_size(item, 64, "bilinear")
