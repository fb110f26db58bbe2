"""Clean synthetic pages rendered with Pillow: headings, paragraphs and tables, with the text they hold."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DPI_RANGE = (150, 300)
SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"))

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her all she there would their we him been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do first any my now such like our over "
    "man me even most made after also did many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world still own see men work long get here "
    "between both life being under never day same another know while last might us great old year off come since "
    "against go came right used take three report account invoice total amount payment balance received order "
    "number date customer address company office letter please enclosed reference section table figure results "
    "method analysis data sample value average annual meeting committee members agenda minutes review approved "
    "department budget project schedule delivery contract terms conditions signature manager director summary "
    "chapter history council district market price quarter revenue interest public service library volume issue"
).split()


@dataclass(frozen=True)
class CleanPage:
    """A clean page: uint8 (H, W) with white paper (255) and dark ink, plus its text in reading order."""

    image: np.ndarray
    text: str
    dpi: int


@lru_cache(maxsize=1)
def bundled_fonts() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(regular, bold) DejaVu fonts that matplotlib ships: present wherever the project installs."""
    import matplotlib

    d = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular = tuple(d / f for f in ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
                                    "DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf") if (d / f).is_file())
    bold = tuple(d / f for f in ("DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf") if (d / f).is_file())
    return regular, bold


@lru_cache(maxsize=1)
def all_fonts() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Bundled fonts plus Debian's DejaVu and Liberation fonts when installed (training variety)."""
    regular, bold = bundled_fonts()
    extra = sorted(p for d in SYSTEM_FONT_DIRS if d.is_dir() for p in d.glob("*.ttf")
                   if "Math" not in p.name and "ExtraLight" not in p.name)
    return (regular + tuple(p for p in extra if "Bold" not in p.name),
            bold + tuple(p for p in extra if "Bold" in p.name and "Oblique" not in p.name and "Italic" not in p.name))


def fonts_checksum(fonts: tuple[tuple[Path, ...], tuple[Path, ...]]) -> str:
    """SHA-256 over the font files' bytes (the validation pages depend on them)."""
    h = hashlib.sha256()
    for p in fonts[0] + fonts[1]:
        h.update(p.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=256)
def _font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), px)


def _words(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.06:
            w = str(int(rng.integers(1, 10_000)))
        elif r < 0.08:
            w = f"{rng.integers(1, 999)}.{rng.integers(0, 99):02d}"
        else:
            w = WORDS[rng.integers(len(WORDS))]
            if rng.random() < 0.08:
                w = w.capitalize()
        out.append(w)
    out[0] = out[0].capitalize()
    return out


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for w in words:
        trial = f"{line} {w}" if line else w
        if font.getlength(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = w
    return lines + [line] if line else lines


def render_page(rng: np.random.Generator, size: tuple[int, int] = (800, 600), dpi: int | None = None,
                fonts: tuple[tuple[Path, ...], tuple[Path, ...]] | None = None) -> CleanPage:
    """Render a page of ``size`` = (height, width) pixels at ``dpi`` (drawn in 150..300 when None)."""
    h, w = size
    dpi = int(dpi or rng.integers(DPI_RANGE[0], DPI_RANGE[1] + 1))
    regular, bold = fonts or all_fonts()
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    px = lambda pt: max(8, round(pt * dpi / 72))  # noqa: E731  points -> pixels at this dpi
    margin = int(rng.uniform(0.15, 0.6) * dpi)
    left, right = margin, w - margin
    y = int(rng.uniform(0.1, 0.5) * dpi)
    body = _font(regular[rng.integers(len(regular))], px(rng.uniform(8, 13)))
    spacing = rng.uniform(1.05, 1.7)
    ink = int(rng.integers(0, 50))
    text: list[str] = []
    while True:
        kind = rng.choice(["heading", "paragraph", "table"], p=[0.2, 0.6, 0.2])
        if kind == "heading":
            font = _font(bold[rng.integers(len(bold))], px(rng.uniform(13, 20)))
            lines = _wrap(_words(rng, int(rng.integers(2, 7))), font, right - left)[:1]
        else:
            font = body
        step = int(font.size * spacing)
        if kind == "table":
            rows, cols = int(rng.integers(2, 6)), int(rng.integers(2, 5))
            row_h = int(font.size * 1.6)
            if y + rows * row_h > h - margin // 2:
                break
            col_w = (right - left) // cols
            for r in range(rows + 1):
                draw.line([(left, y + r * row_h), (left + cols * col_w, y + r * row_h)], fill=ink,
                          width=max(1, dpi // 150))
            for c in range(cols + 1):
                draw.line([(left + c * col_w, y), (left + c * col_w, y + rows * row_h)], fill=ink,
                          width=max(1, dpi // 150))
            for r in range(rows):
                cells = []
                for c in range(cols):
                    cell = " ".join(_words(rng, int(rng.integers(1, 3))))
                    while len(cell) > 1 and font.getlength(cell) > col_w - font.size:
                        cell = cell[:-1]
                    draw.text((left + c * col_w + font.size // 3, y + r * row_h + font.size // 4), cell,
                              font=font, fill=ink)
                    cells.append(cell)
                text.append(" ".join(cells))
            y += rows * row_h + step
            continue
        if kind == "paragraph":
            lines = _wrap(_words(rng, int(rng.integers(12, 90))), font, right - left)
        for line in lines:
            if y + font.size > h - margin // 2:
                return CleanPage(np.asarray(img), "\n".join(text), dpi)
            draw.text((left, y), line, font=font, fill=ink)
            text.append(line)
            y += step
        y += int(step * rng.uniform(0.3, 1.0))
    return CleanPage(np.asarray(img), "\n".join(text), dpi)


def add_handwriting(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Lines of cursive-like strokes (prolate cycloids: loops of varying height, pen lifts between words).

    Historical manuscripts and annotations are not typeset, so the cleaner also sees pen strokes of
    1-7 px whose width and slant vary from page to page.
    """
    h, w = page.shape
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    x_height = rng.uniform(0.012, 0.04) * max(h, w)
    width = max(1, round(x_height * rng.uniform(0.08, 0.22)))
    slant = rng.uniform(-0.4, 0.1)
    ink = int(rng.integers(0, 60))
    top = rng.uniform(0.05, 0.6) * h
    for row in range(int(rng.integers(1, 9))):
        base = top + row * x_height * rng.uniform(2.6, 3.6)
        if base > h - x_height:
            break
        x, end = rng.uniform(0.03, 0.3) * w, rng.uniform(0.6, 0.97) * w
        while x < end:  # one word: a few loops drawn without lifting the pen
            letters = int(rng.integers(2, 8))
            t = np.linspace(0, 2 * np.pi * letters, 24 * letters)
            heights = np.repeat(rng.choice([1.0, 1.0, 1.0, 2.0, -1.6], letters), 24)
            loop = rng.uniform(0.8, 1.4)
            ys = -0.5 * x_height * heights * (1 - np.cos(t))
            xs = x + x_height * (0.5 * t / np.pi - 0.35 * loop * np.sin(t)) - slant * ys
            draw.line(list(zip(xs.tolist(), (base + ys).tolist())), fill=ink, width=width, joint="curve")
            x = xs.max() + x_height * rng.uniform(0.8, 1.6)
    return np.asarray(img)
