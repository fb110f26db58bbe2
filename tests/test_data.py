import gzip
import hashlib
import re
import shutil
import subprocess

import numpy as np
import pytest

from core.card import read_card
from core.config import FASHION_MNIST_TEST_DIR
from core.data import DataUnavailable, load_fashion_mnist, load_shipped_test_set, load_test_set, read_idx, to_float
from tests.conftest import ROOT


def test_loads_tiny_idx_files(tiny_fashion_dir):
    data = load_fashion_mnist(tiny_fashion_dir, allow_download=False)
    assert data.x_train.shape == (20, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (10, 28, 28)
    assert data.y_test.tolist() == list(range(10))
    assert data.source == str(tiny_fashion_dir)


def test_environment_variable_is_a_source(tiny_fashion_dir, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion_dir))
    monkeypatch.setattr("core.data.FASHION_MNIST_DIRS", ())
    assert load_fashion_mnist(allow_download=False).x_train.shape == (20, 28, 28)


def test_no_source_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr("core.data.FASHION_MNIST_DIRS", (tmp_path / "elsewhere",))
    with pytest.raises(DataUnavailable) as err:
        load_fashion_mnist(tmp_path / "nowhere", allow_download=False)
    assert "nowhere" in str(err.value) and "elsewhere" in str(err.value)


def test_truncated_idx_is_rejected(tiny_fashion_dir):
    path = tiny_fashion_dir / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="header says"):
        read_idx(path)


def test_checksum_depends_on_content(tiny_fashion_dir):
    a = load_fashion_mnist(tiny_fashion_dir, allow_download=False)
    assert a.checksum() == load_fashion_mnist(tiny_fashion_dir, allow_download=False).checksum()
    changed = type(a)(a.x_train, a.y_train, a.x_test, (a.y_test + 1) % 10, a.source)
    assert changed.checksum() != a.checksum()


def test_to_float_range_and_shape():
    x = to_float(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.shape == (1, 1, 2, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


def test_real_data_has_the_official_shape(fashion):
    assert fashion.x_train.shape == (60000, 28, 28) and fashion.x_test.shape == (10000, 28, 28)
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10


def test_the_shipped_test_items_are_the_official_ones_and_no_training_items_ship():
    shipped = load_shipped_test_set()
    assert shipped.images.shape == (10000, 28, 28) and shipped.images.dtype == np.uint8
    assert np.bincount(shipped.labels).tolist() == [1000] * 10
    card = read_card(FASHION_MNIST_TEST_DIR.with_suffix(".json"))
    for name, entry in card["files"].items():  # byte-identical to the published files
        assert hashlib.md5((FASHION_MNIST_TEST_DIR / name).read_bytes()).hexdigest() == entry["md5_published"]
    assert "MIT" in card["licence"] and "Zalando" in (FASHION_MNIST_TEST_DIR / "LICENSE").read_text()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert not re.search(r"train-(images|labels)-idx", tracked)


def test_the_shipped_test_items_equal_the_full_sets_test_part(fashion):
    shipped = load_shipped_test_set()
    np.testing.assert_array_equal(shipped.images, fashion.x_test)
    np.testing.assert_array_equal(shipped.labels, fashion.y_test)


def test_a_tampered_or_missing_shipped_file_is_named(tmp_path):
    folder = tmp_path / "fashion_mnist_test"
    shutil.copytree(FASHION_MNIST_TEST_DIR, folder)
    shutil.copy(FASHION_MNIST_TEST_DIR.with_suffix(".json"), folder.with_suffix(".json"))
    assert len(load_shipped_test_set(folder).labels) == 10000
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-1] + b"\x00"))
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte.gz does not match its checksum"):
        load_shipped_test_set(folder)
    labels.unlink()
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte.gz is missing"):
        load_shipped_test_set(folder)


def test_test_items_come_from_another_source_when_the_shipped_copy_is_gone(tiny_fashion_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("core.data.FASHION_MNIST_TEST_DIR", tmp_path / "gone")
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion_dir))
    monkeypatch.setattr("core.data.FASHION_MNIST_DIRS", ())
    assert load_test_set().images.shape == (10, 28, 28)
    monkeypatch.delenv("FASHION_MNIST_DIR")
    with pytest.raises(DataUnavailable, match="gone"):
        load_test_set()
