import numpy as np
import pytest

from core.data import DataUnavailable, load_fashion_mnist, read_idx, to_float


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
