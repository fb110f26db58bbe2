"""The VAE: loss as the math says, the sampling layer, safe_mode loading, the shipped embedding, a smoke run."""
from __future__ import annotations

import gzip
import json
import math

import keras
import numpy as np
import pytest

import core.models  # noqa: F401  (registers the custom layers for safe_mode loading)
from core.card import read_card, sha256
from core.config import (VAE_BROWSER_DECODER_DIR, VAE_DECODER, VAE_EMBEDDING_PATH, VAE_ENCODER, VAE_PRIOR_PATH,
                         VAE_RENDERER, card_path, weight_path)
from core.data import load_fashion_mnist, load_shipped_test_set, to_float
from core.evaluation.vae import negative_elbo_terms
from core.inference import load_model
from core.models.vae import (Sampling, build_vae, conv_encoder, factorize_encoder, kl_divergence, negative_elbo,
                             reconstruction_loss)
from core.serving.vae import (BROWSER_ACTIVATIONS, BROWSER_FORMAT, BROWSER_OPS, LatentDecoder, LatentError,
                              browser_decoder, browser_decoder_files, encode_means, export_browser_decoder,
                              export_onnx, fast_decoder, grid_points, grid_rows, interpolate, load_embedding,
                              read_browser_decoder, read_onnx)
from core.serving.vae_prior import load_prior
from core.training.vae import model_names
from tests.conftest import ROOT


def test_loss_matches_hand_computed_values():
    # Image 1: pixels (1, 0) predicted (0.5, 0.25): BCE = ln 2 + ln(4/3) = 0.980829.
    # Image 2: pixels (0.5, 1) predicted (0.5, 0.5): BCE = ln 2 + ln 2 = 1.386294.
    x = np.array([[1.0, 0.0], [0.5, 1.0]], np.float32)
    p = np.array([[0.5, 0.25], [0.5, 0.5]], np.float32)
    # Image 1: μ = (1, 0), log σ² = (0, ln 2): KL = -½[(1 + 0 - 1 - 1) + (1 + ln 2 - 0 - 2)] = 0.653426.
    # Image 2: μ = 0, log σ² = 0: KL = 0.
    mu = np.array([[1.0, 0.0], [0.0, 0.0]], np.float32)
    log_var = np.array([[0.0, math.log(2.0)], [0.0, 0.0]], np.float32)
    np.testing.assert_allclose(reconstruction_loss(x, p), [0.980829, 1.386294], rtol=1e-5)
    np.testing.assert_allclose(kl_divergence(mu, log_var), [0.653426, 0.0], atol=1e-6)
    total, rec, kl = (float(v) for v in negative_elbo(x, p, mu, log_var))
    assert rec == pytest.approx((0.980829 + 1.386294) / 2, rel=1e-5)
    assert kl == pytest.approx(0.653426 / 2, rel=1e-5)
    assert total == pytest.approx(rec + kl, rel=1e-6)


def test_reconstruction_sums_over_all_pixels_of_an_image():
    x = np.zeros((3, 28, 28, 1), np.float32)
    p = np.full((3, 28, 28, 1), 0.5, np.float32)
    np.testing.assert_allclose(reconstruction_loss(x, p), [784 * math.log(2.0)] * 3, rtol=1e-5)


def test_sampling_layer_draws_mean_plus_sigma_times_noise():
    n = 20000
    mu = np.tile(np.array([[1.5, -2.0]], np.float32), (n, 1))
    log_var = np.tile(np.log(np.array([[0.25, 4.0]], np.float32)), (n, 1))
    z = np.asarray(Sampling(seed=1)([mu, log_var]))
    sigma = np.array([0.5, 2.0])
    np.testing.assert_allclose(z.mean(axis=0), [1.5, -2.0], atol=4 * sigma.max() / math.sqrt(n))
    np.testing.assert_allclose(z.std(axis=0), sigma, rtol=0.03)
    assert abs(np.corrcoef(z.T)[0, 1]) < 0.03
    layer = Sampling(seed=2)
    assert not np.allclose(layer([mu[:4], log_var[:4]]), layer([mu[:4], log_var[:4]]))


@pytest.mark.parametrize("architecture", ["conv", "seed"])
def test_models_round_trip_with_safe_mode(tmp_path, architecture):
    vae = build_vae(architecture, seed=0)
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    vae(x)
    for model in (vae, vae.encoder, vae.decoder):
        model.save(tmp_path / f"{model.name}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{model.name}.keras", safe_mode=True, compile=False)
        if model is vae.decoder:
            z = np.array([[0.0, 0.0], [1.0, -2.0]], np.float32)
            np.testing.assert_allclose(loaded(z), model(z), atol=1e-6)
        elif model is vae.encoder:
            for a, b in zip(loaded(x), model(x)):
                np.testing.assert_allclose(a, b, atol=1e-6)
        else:
            assert isinstance(loaded, type(vae)) and isinstance(loaded.sampling, Sampling)
            np.testing.assert_allclose(loaded.decoder(np.zeros((1, 2))), model.decoder(np.zeros((1, 2))), atol=1e-6)


def test_a_factorised_encoder_holds_the_best_low_rank_kernel_and_loads_with_safe_mode(tmp_path):
    encoder = conv_encoder()
    rng = np.random.default_rng(0)
    encoder.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32) for w in encoder.get_weights()])
    x = rng.random((4, 28, 28, 1), dtype=np.float32)
    for a, b in zip(factorize_encoder(encoder, 512)(x), encoder(x)):  # full rank: the same function
        np.testing.assert_allclose(a, b, atol=1e-4)
    factored = factorize_encoder(encoder, 8)
    assert factored.count_params() < encoder.count_params() // 20
    kernel = encoder.get_layer("hidden").get_weights()[0]
    product = factored.get_layer("hidden_factor").get_weights()[0] @ factored.get_layer("hidden").get_weights()[0]
    singular = np.linalg.svd(kernel, compute_uv=False)  # Eckart–Young: the error of the best rank-8 approximation
    assert np.linalg.norm(kernel - product) == pytest.approx(np.sqrt(np.sum(singular[8:] ** 2)), rel=1e-3)
    factored.save(tmp_path / "encoder.keras")
    loaded = keras.saving.load_model(tmp_path / "encoder.keras", safe_mode=True, compile=False)
    for a, b in zip(loaded(x), factored(x)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.slow
def test_shipped_models_meet_the_contract():
    encoder, decoder = load_model(VAE_ENCODER), load_model(VAE_DECODER)
    x = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    z_mean, z_log_var = encoder(x)
    assert z_mean.shape == (5, 2) and z_log_var.shape == (5, 2)
    images = np.asarray(decoder(np.asarray(z_mean)))
    assert images.shape == (5, 28, 28, 1) and images.min() >= 0.0 and images.max() <= 1.0
    # measured again on 2,000 test items, not read back from the card: the shipped pair beats the seed's
    x_test = to_float(load_shipped_test_set().images[:2000])
    measured = {a: negative_elbo_terms(*(load_model(n) for n in model_names(a)), x_test, samples=2)["neg_elbo"]
                for a in ("conv", "seed")}
    assert measured["conv"] < measured["seed"]
    assert measured["conv"] == pytest.approx(read_card(card_path(VAE_ENCODER))["test_neg_elbo_nats"]["neg_elbo"], abs=5)


def test_shipped_embedding_is_the_encoders_means_of_the_test_set(fashion):
    embedding = load_embedding(VAE_EMBEDDING_PATH)
    encoder = load_model(VAE_ENCODER)
    assert embedding.encoder_sha256 == sha256(card_path(VAE_ENCODER).with_suffix(".keras"))
    assert read_card(card_path(VAE_ENCODER))["embedding"]["sha256"] == sha256(VAE_EMBEDDING_PATH)
    data = fashion
    assert len(embedding.z_mean) == len(data.y_test) == 10000
    np.testing.assert_array_equal(embedding.labels, data.y_test)
    picks = np.random.default_rng(0).choice(10000, 300, replace=False)
    np.testing.assert_allclose(embedding.z_mean[picks], encode_means(encoder, to_float(data.x_test[picks])),
                               atol=1e-4)


@pytest.mark.slow
def test_training_smoke_run_writes_loadable_models_cards_and_embedding(tmp_path, tiny_fashion_dir_large):
    from core.training.vae import Recipe, train

    # 400 train images of discs (360 train, 40 validation) and 100 test images; no real data needed.
    recipe = Recipe(epochs=2, batch_size=32)
    card = train(recipe, out=tmp_path, data_dir=str(tiny_fashion_dir_large), verbose=0)
    for name in (VAE_ENCODER, VAE_DECODER):  # both cards hold the recipe as fields
        assert Recipe(**read_card(tmp_path / f"{name}.json")["recipe"]) == recipe
    losses = card["training"]["val_neg_elbo_per_epoch"]
    assert len(losses) == 2 and losses[1] < losses[0] < 784 * math.log(2.0)
    for name in (VAE_ENCODER, VAE_DECODER):
        path = tmp_path / f"{name}.keras"
        assert read_card(path.with_suffix(".json"))["sha256"] == sha256(path)
        load_model(name, path)  # verifies the checksum and loads with safe_mode on
    embedding = load_embedding(tmp_path / VAE_EMBEDDING_PATH.name)
    assert embedding.z_mean.shape == (100, 2) and embedding.encoder_sha256 == card["sha256"]
    prior = load_prior(tmp_path / VAE_PRIOR_PATH.name)  # the latent mixtures, checked against the encoder's card
    assert prior.encoder_sha256 == card["sha256"] and prior.sample(5, seed=0, label=3).shape == (5, 2)
    assert card["data"]["train_images"] == 360 and card["data"]["validation_images"] == 40
    assert card["factorized"]["rank"] == recipe.encoder_rank == 128  # the hidden kernel factorised after training
    assert card["parameters"] < card["factorized"]["whole_parameters"] // 3
    encoder, decoder = load_model(VAE_ENCODER, tmp_path / "vae_encoder.keras"), load_model(
        VAE_DECODER, tmp_path / "vae_decoder.keras")
    x = to_float(load_fashion_mnist(tiny_fashion_dir_large).x_test)
    terms = negative_elbo_terms(encoder, decoder, x, samples=2)
    assert terms["neg_elbo"] == pytest.approx(terms["reconstruction"] + terms["kl"], abs=2e-3)
    assert 0 < terms["kl"] and terms["reconstruction"] < 784 * math.log(2.0)


@pytest.mark.slow
def test_a_vae_trained_whole_is_factorised_later_as_training_would(tmp_path, tiny_fashion_dir_large):
    from core.training.vae import Recipe, main, train

    whole = train(Recipe(epochs=1, batch_size=32, encoder_rank=None), out=tmp_path,
                  data_dir=str(tiny_fashion_dir_large), verbose=0)
    assert "factorized" not in whole
    main(["--factorize-only", "--epochs", "1", "--batch-size", "32", "--out", str(tmp_path),
          "--data-dir", str(tiny_fashion_dir_large)])
    card = read_card(tmp_path / f"{VAE_ENCODER}.json")
    assert card["factorized"]["whole_parameters"] == whole["parameters"] > 3 * card["parameters"]
    assert card["training"] == whole["training"]  # the training record is kept
    encoder = load_model(VAE_ENCODER, tmp_path / f"{VAE_ENCODER}.keras")
    assert read_card(tmp_path / f"{VAE_DECODER}.json")["recipe"] == card["recipe"]
    embedding = load_embedding(tmp_path / VAE_EMBEDDING_PATH.name)
    assert embedding.encoder_sha256 == card["sha256"] == load_prior(tmp_path / VAE_PRIOR_PATH.name).encoder_sha256
    x = to_float(load_fashion_mnist(tiny_fashion_dir_large).x_test)
    np.testing.assert_allclose(embedding.z_mean, encode_means(encoder, x), atol=1e-5)
    with pytest.raises(ValueError, match="already factorised"):
        main(["--factorize-only", "--out", str(tmp_path), "--data-dir", str(tiny_fashion_dir_large)])


@pytest.mark.parametrize("baseline", [False, True])
def test_the_default_recipe_is_the_shipped_models_and_builds_the_flags(baseline, capsys):
    from core.training.vae import Recipe, main

    recipe = Recipe(baseline=baseline)
    for name in model_names(recipe.architecture):
        recorded = Recipe(**read_card(card_path(name))["recipe"])
        # The seed baseline keeps the budget it was trained with (docs/vae.md); the shipped VAE is the default.
        assert recorded == recipe if not baseline else recorded.baseline
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert all(flag in shown for flag in ("--epochs", "--baseline", "--batch-size", "--seed", "--learning-rate"))


def test_latent_helpers():
    z = interpolate(np.array([0.0, 1.0]), np.array([2.0, -1.0]), 5)
    np.testing.assert_allclose(z[[0, 2, -1]], [[0, 1], [1, 0], [2, -1]])
    points = grid_points((-1, 1), (0, 4), 2)
    np.testing.assert_allclose(points, [[-0.5, 3], [0.5, 3], [-0.5, 1], [0.5, 1]])  # top row first
    with pytest.raises(LatentError):
        grid_points((1, 1), (0, 1), 3)
    with pytest.raises(LatentError):
        interpolate(np.zeros(2), np.ones(2), 1)
    rows = grid_rows(np.arange(9)[:, None, None] * np.ones((9, 28, 28)), 3)
    assert [r[:, 0, 0].tolist() for r in rows] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def randomised_decoder(architecture: str) -> keras.Model:
    decoder = build_vae(architecture, seed=0).decoder
    for layer in decoder.layers:  # random biases too, so a wrongly placed bias would show
        if layer.weights:
            layer.set_weights([w + np.random.default_rng(1).normal(0, 0.05, w.shape) for w in layer.get_weights()])
    return decoder


@pytest.mark.slow  # two tf2onnx exports
@pytest.mark.parametrize("architecture", ["conv", "seed"])
def test_the_onnx_export_run_by_onnxruntime_equals_the_keras_decoder(architecture, tmp_path):
    decoder = randomised_decoder(architecture)
    entry = export_onnx(decoder, tmp_path / "decoder.onnx", made_from="abc")
    assert entry["max_abs_diff_vs_keras"] <= 1e-5
    fast = LatentDecoder(onnx=read_onnx(tmp_path / "decoder.onnx", {"sha256": "abc", "onnx": entry}))
    assert fast.backend == "onnxruntime"
    z = np.random.default_rng(0).normal(0, 2, (64, 2)).astype(np.float32)
    want = np.asarray(decoder(z, training=False))[..., 0]
    np.testing.assert_allclose(fast(z), want, atol=1e-5)
    np.testing.assert_allclose(fast.one(*z[5]), want[5], atol=1e-5)
    np.testing.assert_allclose(LatentDecoder(decoder)(z), want, atol=1e-6)  # the Keras fallback
    with pytest.raises(LatentError):
        fast(np.array([[np.nan, 0.0]]))
    with pytest.raises(LatentError, match="not made from the shipped decoder"):
        read_onnx(tmp_path / "decoder.onnx", {"sha256": "retrained", "onnx": entry})
    (tmp_path / "decoder.onnx").write_bytes(b"\0" * 64)
    with pytest.raises(LatentError, match="does not match its checksum"):
        read_onnx(tmp_path / "decoder.onnx", {"sha256": "abc", "onnx": entry})


def test_a_decoder_layer_the_browser_cannot_run_fails_its_export_loudly(tmp_path):
    inputs = keras.Input((2,))
    x = keras.layers.Reshape((7, 7, 1))(keras.layers.Dense(49, name="to_grid")(inputs))
    model = keras.Model(inputs, keras.layers.UpSampling2D(4, name="up")(x))
    with pytest.raises(LatentError, match="layer up .UpSampling2D.*decoder.js"):
        export_browser_decoder(model, tmp_path / "browser", made_from="abc")
    assert not (tmp_path / "browser").exists()
    with pytest.raises(LatentError, match="gelu"):
        browser_decoder(keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="gelu")]))


def test_decoder_js_runs_the_ops_and_activations_the_export_writes():
    """The one list of what the browser decoder runs: core.serving.vae's constants and decoder.js agree."""
    import re

    js = (ROOT / "components" / "latent_pad" / "frontend" / "decoder.js").read_text()
    assert re.search(r'^const FORMAT = "([^"]+)";', js, re.M).group(1) == BROWSER_FORMAT
    ops = re.search(r"^const OPS = \[([^\]]*)\];", js, re.M).group(1)
    assert tuple(re.findall(r'"([^"]+)"', ops)) == BROWSER_OPS
    activations = re.search(r"^const ACTIVATIONS = \{(.*?)^\};", js, re.M | re.S).group(1)
    assert tuple(re.findall(r"^  (\w+):", activations, re.M)) == BROWSER_ACTIVATIONS


def test_browser_decoder_export_holds_every_weight_at_its_offset():
    decoder = build_vae("conv", seed=0).decoder
    spec, blob = browser_decoder(decoder)
    floats = np.frombuffer(blob, "<f4")
    exported = [floats[t["offset"]: t["offset"] + int(np.prod(t["shape"]))].reshape(t["shape"])
                for layer in spec["layers"] for t in layer["weights"]]
    expected = [w for layer in decoder.layers for w in layer.get_weights()]
    assert len(exported) == len(expected) and sum(w.size for w in expected) == floats.size
    for got, want in zip(exported, expected):
        np.testing.assert_array_equal(got, want)
    assert [layer["op"] for layer in spec["layers"]] == ["dense", "dense", "dense", "reshape", "conv_transpose_same",
                                                         "conv_same", "conv_transpose_same", "conv_same", "conv_same"]
    assert spec["layers"][-1]["activation"] == "sigmoid" and spec["layers"][4]["stride"] == 2


def test_the_browser_export_is_checked_against_the_card(tmp_path):
    decoder = build_vae("conv", seed=0).decoder
    entry = export_browser_decoder(decoder, tmp_path / "browser", made_from="abc")
    card = {"sha256": "abc", "browser_decoder": entry}
    assert read_browser_decoder(tmp_path / "browser", card) == entry["files"]["decoder.bin.gz"][:16]
    with pytest.raises(LatentError, match="not made from the shipped decoder"):
        read_browser_decoder(tmp_path / "browser", {**card, "sha256": "retrained"})
    (tmp_path / "browser" / "decoder.json").write_text("{}")
    with pytest.raises(LatentError, match="decoder.json does not match its checksum"):
        read_browser_decoder(tmp_path / "browser", card)


def test_the_shipped_exports_are_the_shipped_renderer():
    card = read_card(card_path(VAE_RENDERER))
    read_browser_decoder(VAE_BROWSER_DECODER_DIR, card)
    assert card["browser_decoder"]["made_from"] == card["onnx"]["made_from"] == sha256(weight_path(VAE_RENDERER))
    assert card["encoder"]["sha256"] == read_card(card_path(VAE_ENCODER))["sha256"]  # drawn on today's map
    model = load_model(VAE_RENDERER)
    spec, blob = browser_decoder(model)
    spec_file, blob_file = browser_decoder_files(VAE_BROWSER_DECODER_DIR)
    assert (json.loads(spec_file.read_text()), gzip.decompress(blob_file.read_bytes())) == (spec, blob)
    fast, version, unusable = fast_decoder(weight_path(VAE_RENDERER))
    assert fast.backend == "onnxruntime" and unusable is None and len(version) == 16
    z = np.random.default_rng(3).normal(0, 3, (200, 2)).astype(np.float32)
    np.testing.assert_allclose(fast(z), np.asarray(model(z))[..., 0], atol=1e-5)


def test_embedding_errors_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(LatentError, match="python -m core.train vae"):
        load_embedding(tmp_path / "absent.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(LatentError, match="bad.npz"):
        load_embedding(tmp_path / "bad.npz")
    np.savez(tmp_path / "shape.npz", z_mean=np.zeros((4, 3)), labels=np.zeros(4, np.uint8),
             encoder_sha256=np.array("x"))
    with pytest.raises(LatentError, match="shape"):
        load_embedding(tmp_path / "shape.npz")
