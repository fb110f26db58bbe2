import json

import keras
import numpy as np
import pytest

import core
from core.config import IMAGE_SHAPE
from core.inference import WeightsError, load_model, model_exists
from core.metrics import median_baseline, psnr
from core.models.denoiser import ARCHITECTURES
from core.noise import add_noise
from core.training.denoiser import train


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_architectures_map_images_to_images(name):
    model = ARCHITECTURES[name]()
    y = np.asarray(model(np.random.rand(3, *IMAGE_SHAPE).astype("float32")))
    assert y.shape == (3, *IMAGE_SHAPE)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_training_smoke_run_writes_a_loadable_model_and_card(tmp_path, tiny_fashion_dir_large):
    card = train(epochs=1, out=tmp_path, limit=300, data_dir=str(tiny_fashion_dir_large), verbose=0)
    path = tmp_path / "denoiser.keras"
    on_disk = json.loads(path.with_suffix(".json").read_text())
    assert on_disk["sha256"] == card["sha256"] and on_disk["training"]["epochs_run"] == 1
    assert on_disk["training"]["wall_time_s"] > 0 and on_disk["data"]["train_images"] == 300
    model = load_model("denoiser", path)
    assert np.asarray(model(np.zeros((2, *IMAGE_SHAPE), "float32"))).shape == (2, *IMAGE_SHAPE)


def test_a_tampered_model_file_is_refused(tmp_path, tiny_fashion_dir_large):
    train(epochs=1, out=tmp_path, limit=64, data_dir=str(tiny_fashion_dir_large), verbose=0)
    path = tmp_path / "denoiser.keras"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(WeightsError, match="does not match its model card"):
        load_model("denoiser", path)


def test_missing_weights_say_how_to_train(tmp_path):
    with pytest.raises(WeightsError, match="python -m core.train denoiser"):
        load_model("denoiser", tmp_path / "denoiser.keras")


@pytest.fixture
def shipped():
    if not model_exists("denoiser"):
        pytest.fail("weights/denoiser.keras is not shipped")
    return load_model("denoiser")


def test_shipped_model_honours_the_contract(shipped):
    model = keras.saving.load_model(core.config.weight_path("denoiser"), safe_mode=True)
    x = np.random.default_rng(0).random((4, *IMAGE_SHAPE), dtype=np.float32)
    y = np.asarray(model(x))
    assert y.shape == x.shape and y.dtype == np.float32 and 0.0 <= y.min() and y.max() <= 1.0


@pytest.mark.parametrize("kind,amount", [("s&p", 0.05), ("s&p", 0.1), ("s&p", 0.2), ("gaussian", 0.1),
                                         ("gaussian", 0.2), ("speckle", 0.2), ("poisson", 0.1)])
def test_shipped_model_beats_the_median_filter_on_real_items(shipped, fashion, kind, amount):
    clean = fashion.x_test[:200, ..., None].astype("float32") / 255
    noisy = add_noise(clean, kind, amount, seed=99)
    model_db = psnr(clean, np.asarray(shipped(noisy))).mean()
    median_db = psnr(clean, median_baseline(noisy)).mean()
    assert model_db > median_db + 1.0, (model_db, median_db)
