import argparse
import dataclasses
import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import core.models  # noqa: F401  (registers the custom layers for safe_mode loading)
from core.config import IMAGE_SHAPE
from core.data import to_float
from core.inference import WeightsError, load_model, model_exists
from core.metrics import median_baseline, psnr
from core.models.denoiser import ARCHITECTURES, SaturatedPixels, psnr_loss
from core.noise import add_noise
from core.serving import denoiser as serving
from core.training.common import add_recipe_args, recipe_from_args
from core.training.denoiser import Recipe, main, train
from tests.conftest import ROOT


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_architectures_map_images_to_images(name):
    model = ARCHITECTURES[name]()
    y = np.asarray(model(np.random.rand(3, *IMAGE_SHAPE).astype("float32")))
    assert y.shape == (3, *IMAGE_SHAPE)
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_psnr_loss_is_minus_the_psnr_of_each_image():
    clean = np.zeros((2, *IMAGE_SHAPE), "float32")
    noisy = clean.copy()
    noisy[0] += 0.1  # MSE 0.01 -> 20 dB
    noisy[1, :14] += 0.5  # half the pixels off by 0.5: MSE 0.125 -> 9.03 dB
    loss = np.asarray(psnr_loss(clean, noisy))
    np.testing.assert_allclose(loss, [10 * np.log10(0.01 + 1e-5), 10 * np.log10(0.125 + 1e-5)], rtol=1e-5)
    np.testing.assert_allclose(-loss, psnr(clean, noisy), atol=0.01)


def test_saturated_pixels_marks_exact_black_and_white():
    x = np.array([0.0, 0.3, 1.0, 0.999], "float32").reshape(1, 2, 2, 1)
    out = np.asarray(SaturatedPixels()(x))
    np.testing.assert_allclose(out[0].reshape(4, 3), [[0, 1, 0], [0.3, 0, 0], [1, 0, 1], [0.999, 0, 0]])


@pytest.mark.slow
def test_training_smoke_run_writes_a_loadable_model_and_card(tmp_path, tiny_fashion_dir_large):
    recipe = Recipe(epochs=1, batch_size=16)
    card = train(recipe, out=tmp_path, limit=300, data_dir=str(tiny_fashion_dir_large), verbose=0)
    path = tmp_path / "denoiser.keras"
    on_disk = json.loads(path.with_suffix(".json").read_text())
    assert on_disk["sha256"] == card["sha256"] and on_disk["training"]["epochs_run"] == 1
    assert on_disk["training"]["wall_time_s"] > 0 and on_disk["data"]["train_images"] == 300
    assert Recipe(**on_disk["recipe"]) == recipe  # the card holds the recipe as fields
    model = load_model("denoiser", path)
    assert np.asarray(model(np.zeros((2, *IMAGE_SHAPE), "float32"))).shape == (2, *IMAGE_SHAPE)


@pytest.mark.slow
def test_the_command_line_trains_the_baseline_by_its_recipe_flags(tmp_path, tiny_fashion_dir_large, capsys):
    main(["--epochs", "1", "--baseline", "--batch-size", "16", "--limit", "64", "--out", str(tmp_path),
          "--data-dir", str(tiny_fashion_dir_large)])
    assert "saved denoiser_seed.keras" in capsys.readouterr().out
    card = json.loads((tmp_path / "denoiser_seed.json").read_text())
    assert card["architecture"] == "seed_denoiser"
    assert Recipe(**card["recipe"]) == Recipe(epochs=1, baseline=True, batch_size=16)


def test_recipe_flags_are_built_from_the_dataclass_fields():
    @dataclasses.dataclass(frozen=True)
    class Toy:
        steps: int = dataclasses.field(default=5, metadata={"help": "how many steps"})
        cpu_minutes: float | None = None
        baseline: bool = False
        shuffle: bool = True
        weights: dict[str, float] = dataclasses.field(default_factory=lambda: {"a": 1.0})  # no flag

    parser = argparse.ArgumentParser()
    add_recipe_args(parser, Toy)
    assert "how many steps (default: 5)" in parser.format_help() and "--weights" not in parser.format_help()
    assert recipe_from_args(parser.parse_args([]), Toy) == Toy()
    parsed = parser.parse_args(["--steps", "7", "--cpu-minutes", "2.5", "--baseline", "--no-shuffle"])
    assert recipe_from_args(parsed, Toy) == Toy(steps=7, cpu_minutes=2.5, baseline=True, shuffle=False)


@pytest.mark.parametrize("name,recipe", [("denoiser", Recipe()), ("denoiser_seed", Recipe(baseline=True))])
def test_the_default_recipe_is_the_shipped_models(name, recipe):
    card = json.loads(core.config.card_path(name).read_text())
    assert Recipe(**card["recipe"]) == recipe and core.config.model_name("denoiser", recipe.architecture) == name


@pytest.mark.slow
def test_a_tampered_model_file_is_refused(tmp_path, tiny_fashion_dir_large):
    train(Recipe(epochs=1), out=tmp_path, limit=64, data_dir=str(tiny_fashion_dir_large), verbose=0)
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


@pytest.mark.slow
def test_evaluate_scores_every_setting_and_method_with_the_pages_comparison(shipped, fashion):
    from core.evaluation.denoiser import SETTINGS, SHIPPED, combine, evaluate_models, quality_bar

    per_model = evaluate_models(limit=64)
    results = combine(per_model)
    assert list(results) == [f"{kind} {amount:g}" for kind, amount in SETTINGS]
    for row in results.values():
        assert {"noisy input", "median 3×3", "shipped U-Net"} <= set(row)
        assert all(np.isfinite(m["psnr_db"]) and 0 < m["ssim"] <= 1 for m in row.values())
    assert all(line.startswith("PASS") for line in quality_bar(results)), quality_bar(results)  # on 64 items too
    # The evaluation's numbers are the Denoise page's comparison, row for row (first setting: seed 1234).
    page = serving.compare(to_float(fashion.x_test[:64]), "s&p", 0.05, 1234, shipped)
    assert per_model[SHIPPED]["s&p 0.05"] == page.means() and list(page.means()) == list(serving.ROWS)


@pytest.mark.parametrize("name", ["denoiser", "denoiser_seed"])
def test_the_cards_test_metrics_use_the_serving_rows(name):
    from core.evaluation.denoiser import from_cards

    card = json.loads(core.config.card_path(name).read_text())
    assert all(list(row) == list(serving.ROWS) for row in card["test_metrics"].values())
    assert from_cards()["s&p 0.1"]["median 3×3"] == card["test_metrics"]["s&p 0.1"]["median 3×3"]


def test_the_serving_and_evaluation_modules_load_no_tensorflow_until_a_model_runs():
    code = ("import sys, core.serving.denoiser, core.evaluation.denoiser as e; e.from_cards(); "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_quality_bar_flags_each_failure():
    from core.evaluation.denoiser import quality_bar

    def row(median, seed, shipped):
        return {"median 3×3": {"psnr_db": median}, "seed architecture": {"psnr_db": seed},
                "shipped U-Net": {"psnr_db": shipped}}

    good = {"s&p 0.1": row(20.0, 19.0, 28.5), "gaussian 0.1": row(20.0, 21.0, 25.0)}
    assert all(line.startswith("PASS") for line in quality_bar(good))
    bad = {"s&p 0.1": row(20.0, 19.0, 27.9), "gaussian 0.1": row(20.0, 25.5, 25.0)}
    assert [line[:4] for line in quality_bar(bad)] == ["FAIL", "PASS", "FAIL"]
    assert "gaussian 0.1" in quality_bar(bad)[2]
