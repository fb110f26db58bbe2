"""Shared fixtures: paths, real-data availability, tiny IDX files."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from core.data import DataUnavailable, load_fashion_mnist

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.browser"]  # app_url, browser and page fixtures, one of each per session


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    """Write a uint8 array as an IDX file, gzipped when ``compress``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


@pytest.fixture
def tiny_fashion_dir(tmp_path: Path) -> Path:
    """A folder with four tiny IDX files (20 train, 10 test images)."""
    rng = np.random.default_rng(0)
    for stem, shape in [("train-images-idx3-ubyte", (20, 28, 28)), ("t10k-images-idx3-ubyte", (10, 28, 28))]:
        write_idx(tmp_path / stem, rng.integers(0, 256, shape, dtype=np.uint8))
    for stem, n in [("train-labels-idx1-ubyte", 20), ("t10k-labels-idx1-ubyte", 10)]:
        write_idx(tmp_path / stem, np.arange(n, dtype=np.uint8) % 10, compress=False)
    return tmp_path


@pytest.fixture(scope="session")
def fashion():
    """The real Fashion-MNIST, or a skip saying why it is absent."""
    try:
        return load_fashion_mnist(allow_download=False)
    except DataUnavailable as e:
        pytest.skip(f"real Fashion-MNIST not on this machine: {e}")


@pytest.fixture
def tiny_fashion_dir_large(tmp_path: Path) -> Path:
    """IDX files with 400 train images of discs (a tenth is held out for validation)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:28, :28]

    def blobs(n: int) -> np.ndarray:
        cy, cx, r = rng.uniform(8, 20, (3, n, 1, 1))
        return (255 * (np.hypot(yy - cy, xx - cx) < r / 2 + 3)).astype(np.uint8)

    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", blobs(400))
    write_idx(folder / "t10k-images-idx3-ubyte", blobs(100))
    write_idx(folder / "train-labels-idx1-ubyte", rng.integers(0, 10, 400).astype(np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 100).astype(np.uint8))
    return folder


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (browser tests screenshot failures)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
