"""The one naming plan for cleaned pages (plain CLI, Ray archive, the app's ZIP and PDF downloads).

A document (one input file) gets a stem, unique in its output folder; its pages are ``stem.png`` (one page)
or ``stem-page001.png`` … (several), its PDF ``stem.pdf``, its text ``stem.txt``. Stems are compared
case-insensitively (NFC), so the names never collide on macOS, Windows or exFAT, and are made Windows-safe (no
reserved device names, no ``<>:"|?*\\``, no trailing dot or space). A stem claims its whole page namespace, so
``scan.pdf`` (two pages) beside ``scan-page001.png`` cannot write the same file twice. Also which input files
and folders to read.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath

SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".gif", ".bmp", ".webp"}  # read inside folders
PAGE = re.compile(r"(.+)-page\d+", re.IGNORECASE)  # a page of a multi-page document
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"{d}{i}" for d in ("com", "lpt") for i in range(1, 10))}
MAX_STEM = 150  # characters: leaves room for "-page00001-99.png" and a folder within Windows' 255 per name


def safe_part(text: str, empty: str = "page") -> str:
    """One path component every file system takes: control and bidi characters dropped, reserved ones made
    ``_``, no hidden files, no Windows device names (``CON`` → ``CON_``), no trailing dots or spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join("_" if c in '<>:"/\\|?*' else c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    text = text.lstrip(". ").rstrip(". ")[:MAX_STEM].rstrip(". ") or empty
    return text + "_" if text.split(".")[0].lower() in WINDOWS_RESERVED else text


def stem_of(filename: str) -> str:
    """The safe stem for a document named ``filename`` (its last path component, without the suffix)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return safe_part(stem)


def page_name(stem: str, index: int, count: int) -> str:
    """The PNG of page ``index`` (0-based) of ``count``: ``stem.png`` or ``stem-page001.png``."""
    return f"{stem}-page{index + 1:03d}.png" if count > 1 else f"{stem}.png"


def document_names(stem: str, pdf: bool, ocr: bool) -> list[str]:
    """A document's own files beside its pages: ``stem.pdf`` (with ``pdf``), ``stem.txt`` (with ``ocr``)."""
    return [f"{stem}.pdf"] * pdf + [f"{stem}.txt"] * ocr


def page_stem(output: str, count: int) -> str:
    """The document stem back from one of its page names (``page_name``'s inverse)."""
    name = PurePosixPath(output).name.removesuffix(".png")
    return name.rsplit("-page", 1)[0] if count > 1 else name


def _key(folder: str, stem: str) -> str:
    return unicodedata.normalize("NFC", f"{folder}/{stem}").casefold()


class NamePlan:
    """Unique stems per output folder: ``keep`` the stems an earlier run recorded, ``reserve`` names that
    must never be written (the inputs), then ``claim`` one per new document (``a``, ``a-2``, ``a-3`` …)."""

    def __init__(self) -> None:
        self.used: set[str] = set()  # folder/stem, case-folded
        self.bases: set[str] = set()  # folder/X of every used folder/X-pageNNN

    def free(self, folder: str, stem: str) -> bool:
        """Whether neither ``stem``'s page names nor its PDF can be a name already planned."""
        key = _key(folder, stem)
        base = PAGE.fullmatch(stem)
        return key not in self.used and key not in self.bases and not (base and _key(folder, base[1]) in self.used)

    def keep(self, folder: str, stem: str) -> str:
        """Record ``stem`` as taken in ``folder`` (an earlier run's name, or an input's) and return it."""
        self.used.add(_key(folder, stem))
        if base := PAGE.fullmatch(stem):
            self.bases.add(_key(folder, base[1]))
        return stem

    def reserve(self, folder: str, filename: str) -> None:
        """A file in the output folder that must stay untouched (an input): no output takes its name."""
        if PurePosixPath(filename).suffix.lower() in (".png", ".pdf"):
            self.keep(folder, safe_part(PurePosixPath(filename).stem))

    def claim(self, folder: str, filename: str) -> str:
        """A new stem for document ``filename`` in ``folder``, never one planned before."""
        stem, n = stem_of(filename), 2
        candidate = stem
        while not self.free(folder, candidate):
            candidate, n = f"{stem}-{n}", n + 1
        return self.keep(folder, candidate)


def safe_folder(folder: str) -> str:
    """A relative output folder with every component made safe ("" for the top)."""
    return "/".join(safe_part(p, "_") for p in PurePosixPath(folder).parts if p not in (".", "", "/"))


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it (absolute POSIX-style paths or URIs)."""
    return (path.rstrip("/") + "/").startswith(folder.rstrip("/") + "/")


def skip_when_walking(folder: str, dest: str) -> str | None:
    """While walking input ``folder`` with outputs in ``dest``: the subtree to leave out (the output folder
    when it lies inside the input, so outputs are never read as inputs), else None (outputs above or apart)."""
    return dest if inside(dest, folder) and dest.rstrip("/") != folder.rstrip("/") else None


def out_is_input_folder(folders: Iterable[str], dest: str) -> str | None:
    """The input folder that is also the output folder, if any (such a run is refused: its outputs would be
    inputs of the next run)."""
    return next((f for f in folders if f.rstrip("/") == dest.rstrip("/")), None)
