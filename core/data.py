"""Fashion-MNIST: the test items shipped in weights/, and the full set (for training) from the shared data
folder, $FASHION_MNIST_DIR, Debian's package or Keras' download."""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.card import read_card, sha256
from core.config import FASHION_MNIST_DIRS, FASHION_MNIST_ENV, FASHION_MNIST_TEST_DIR

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class DataUnavailable(RuntimeError):
    """No Fashion-MNIST source could be read."""


@dataclass(frozen=True)
class FashionMNIST:
    """uint8 images (N, 28, 28) and int labels (N,), plus where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def checksum(self) -> str:
        """SHA-256 over the decoded arrays (independent of gzip headers)."""
        h = hashlib.sha256()
        for name in IDX_FILES:
            h.update(np.ascontiguousarray(getattr(self, name)).tobytes())
        return h.hexdigest()


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzipped or not) into a uint8 array of the shape its header gives."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=header_end)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, file holds {array.size} values")
    return array.reshape(shape)


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{stem}(.gz) not in {directory}")


def load_from_dir(directory: Path) -> FashionMNIST:
    """Load the four IDX files from one directory."""
    arrays = {name: read_idx(_find(directory, stem)) for name, stem in IDX_FILES.items()}
    return FashionMNIST(**arrays, source=str(directory))


def candidate_dirs(directory: str | Path | None = None) -> list[Path]:
    """Directories tried in order: the argument, $FASHION_MNIST_DIR, shared data, Debian's package."""
    dirs = [Path(directory)] if directory else []
    if os.environ.get(FASHION_MNIST_ENV):
        dirs.append(Path(os.environ[FASHION_MNIST_ENV]))
    return dirs + list(FASHION_MNIST_DIRS)


def load_fashion_mnist(directory: str | Path | None = None, allow_download: bool = True) -> FashionMNIST:
    """Load Fashion-MNIST from the first source that works; raise DataUnavailable naming all tried."""
    failures = []
    for d in candidate_dirs(directory):
        try:
            return load_from_dir(d)
        except (OSError, ValueError, EOFError) as e:
            failures.append(f"{d}: {e}")
    if allow_download:
        try:
            from keras.datasets import fashion_mnist

            (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
            return FashionMNIST(x_train, y_train, x_test, y_test, source="keras.datasets.fashion_mnist")
        except Exception as e:  # any download or cache failure
            failures.append(f"keras.datasets.fashion_mnist download: {e}")
    raise DataUnavailable(
        "Fashion-MNIST could not be loaded from any source:\n  " + "\n  ".join(failures)
    )


@dataclass(frozen=True)
class TestItems:
    """The Fashion-MNIST test items: uint8 images (N, 28, 28), int labels (N,), and where they came from."""

    images: np.ndarray
    labels: np.ndarray
    source: str


def load_shipped_test_set(folder: Path | None = None) -> TestItems:
    """The test items shipped with the app (``weights/fashion_mnist_test/``), each file checked against the
    SHA-256 in the card beside the folder."""
    folder = Path(folder or FASHION_MNIST_TEST_DIR)
    card = folder.with_suffix(".json")
    expected = read_card(card).get("files", {})
    arrays = []
    for stem in (IDX_FILES["x_test"], IDX_FILES["y_test"]):
        path = folder / f"{stem}.gz"
        if not path.is_file():
            raise DataUnavailable(f"{path} is missing: restore it from the repository (git checkout -- {path.name})")
        if expected.get(path.name, {}).get("sha256") != sha256(path):
            raise DataUnavailable(f"{path} does not match its checksum in {card.name}: restore it from the repository")
        arrays.append(read_idx(path))
    images, labels = arrays
    if len(images) != len(labels):
        raise DataUnavailable(f"{folder}: {len(images)} images but {len(labels)} labels")
    return TestItems(images, labels.astype(np.int64), str(folder))


def load_test_set() -> TestItems:
    """The test items: the shipped copy, else the first of ``candidate_dirs()`` holding the t10k files.

    DataUnavailable names every place tried."""
    try:
        return load_shipped_test_set()
    except (DataUnavailable, OSError, ValueError, EOFError) as e:
        failures = [str(e)]
    for d in candidate_dirs():
        try:
            images, labels = (read_idx(_find(d, IDX_FILES[k])) for k in ("x_test", "y_test"))
            return TestItems(images, labels.astype(np.int64), str(d))
        except (OSError, ValueError, EOFError) as e:
            failures.append(f"{d}: {e}")
    raise DataUnavailable("the Fashion-MNIST test items could not be read:\n  " + "\n  ".join(failures))


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    x = images.astype(np.float32) / 255.0
    return x[..., None] if x.ndim == 3 else x
