"""Atomic writes: every output (page PNG, PDF, text, manifest part) goes to a temporary name beside its
final one and is moved into place, so a final name never holds a truncated file; a failed write leaves
any earlier file of that name as it was and raises ``WriteError`` naming the output and the reason."""
from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

PARTIAL = ".partial"  # suffix of the temporary names (".<name>.<random>.partial"); never an input suffix


class WriteError(OSError):
    """An output could not be written; the message names it and says why."""


def _temp_name(path: str) -> str:
    p = PurePosixPath(path)
    return str(p.with_name(f".{p.name}.{uuid.uuid4().hex[:12]}{PARTIAL}"))


def _reason(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def write_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to local ``path`` atomically (temporary file, fsync, ``os.replace``); folders are made."""
    path = Path(path)
    temp = Path(_temp_name(str(path)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except OSError as e:
        try:
            temp.unlink(missing_ok=True)
        except OSError:  # e.g. the folder is a file: there is no temporary file
            pass
        raise WriteError(f"could not write {path}: {_reason(e)}") from None


def write_fs(fs, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` on a pyarrow filesystem atomically: a local one as ``write_file``; others
    through a temporary object moved into place (an object store publishes an object only once complete)."""
    import pyarrow.fs as pafs

    if isinstance(fs, pafs.LocalFileSystem):
        return write_file(path, data)
    temp = _temp_name(path)
    try:
        fs.create_dir(str(PurePosixPath(path).parent), recursive=True)
        with fs.open_output_stream(temp) as f:
            f.write(data)
        fs.move(temp, path)
    except OSError as e:
        try:
            fs.delete_file(temp)
        except OSError:
            pass
        raise WriteError(f"could not write {path}: {_reason(e)}") from None


def is_partial(name: str) -> bool:
    """Whether a file name is one of these temporary names (left behind only by a killed process)."""
    return PurePosixPath(name).name.startswith(".") and name.endswith(PARTIAL)
