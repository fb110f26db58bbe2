"""Where the clothing lies on the map (the latent mixtures), the renderer and judge that draw and score it, and
the sample-quality measures of core.evaluation.vae."""
from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import core.models  # noqa: F401  (registers the custom layers for safe_mode loading)
from core.card import read_card, sha256
from core.config import FASHION_CLASSIFIER, VAE_ENCODER, VAE_PRIOR_PATH, VAE_RENDERER, card_path
from core.data import load_fashion_mnist, to_float
from core.evaluation.vae import (entropy_floor, frechet_distance, importance_weighted, negative_elbo_terms,
                                 realism, sharpness)
from core.inference import load_model
from core.models.classifier import classifier, with_features
from core.models.renderer import critic, critic_loss, generator_loss
from core.models.vae import build_vae
from core.serving.vae import read_browser_decoder, read_onnx, onnx_path, browser_dir
from core.serving.vae_prior import PriorError, fit_prior, load_prior, save_prior

CENTRES = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])


def three_classes(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around three centres, labelled 0, 1, 2 (the other seven classes get a few far away)."""
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.repeat([0, 1, 2], n // 3), np.repeat(np.arange(3, 10), 20)])
    centres = np.concatenate([CENTRES, np.stack([np.full(7, 10.0), np.arange(7) * 3.0], axis=1)])
    return (centres[labels] + 0.5 * rng.standard_normal((len(labels), 2))).astype(np.float32), labels


def test_class_samples_land_in_their_class_region_and_the_prior_round_trips(tmp_path):
    z, labels = three_classes()
    prior = fit_prior(z, labels, np.linspace(0.0, 1.0, 500), "enc")
    for label, centre in enumerate(CENTRES):
        points = prior.sample(200, seed=label, label=label)
        assert points.shape == (200, 2) and points.dtype == np.float32
        assert np.median(np.linalg.norm(points - centre, axis=1)) < 1.0
        assert np.mean(prior.most_likely_class(points) == label) > 0.95
    overall = prior.sample(3000, seed=1)  # all classes in their shares: 600 of the 740 points at the three centres
    near = np.mean(np.min(np.linalg.norm(overall[:, None] - CENTRES[None], axis=2), axis=1) < 2.0)
    assert near == pytest.approx(600 / 740, abs=0.04)
    assert prior.fit_threshold == pytest.approx(0.99, abs=1e-3)
    assert prior.error_percentile(0.5) == pytest.approx(50.0, abs=0.5)
    save_prior(tmp_path / "prior.npz", prior)
    again = load_prior(tmp_path / "prior.npz")
    np.testing.assert_array_equal(again.sample(50, seed=3, label=2), prior.sample(50, seed=3, label=2))


def test_prior_errors_name_the_file(tmp_path):
    with pytest.raises(PriorError, match="absent.npz is missing.*core.train vae"):
        load_prior(tmp_path / "absent.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(PriorError, match="bad.npz cannot be read"):
        load_prior(tmp_path / "bad.npz")


def test_the_shipped_prior_belongs_to_the_shipped_encoder():
    prior, card = load_prior(VAE_PRIOR_PATH), read_card(card_path(VAE_ENCODER))
    assert prior.encoder_sha256 == card["sha256"] and card["prior"]["sha256"] == sha256(VAE_PRIOR_PATH)


def test_renderer_losses_match_hand_computed_values():
    real, fake = np.array([[0.0], [2.0]], np.float32), np.array([[0.0], [-1.0]], np.float32)
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    expected = (softplus(0) + softplus(-2)) / 2 + (softplus(0) + softplus(-1)) / 2
    assert float(critic_loss(real, fake)) == pytest.approx(expected, rel=1e-5)
    x, rendered = np.zeros((2, 2, 2, 1), np.float32), np.full((2, 2, 2, 1), 0.25, np.float32)
    total, adversarial, l1 = (float(v) for v in generator_loss(fake, x, rendered, 10.0))
    assert adversarial == pytest.approx((softplus(0) + softplus(1)) / 2, rel=1e-5)
    assert l1 == pytest.approx(0.25) and total == pytest.approx(adversarial + 2.5, rel=1e-5)


def test_the_class_critic_judges_an_item_against_its_label():
    keras.utils.set_random_seed(0)
    x, z = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32), np.zeros((4, 2), np.float32)
    plain, projected = critic(), critic(10)
    assert len(plain.inputs) == 2 and np.asarray(plain([x, z])).shape == (4, 1)
    logits = {y: np.asarray(projected([x, z, np.full(4, y, np.int32)])) for y in (2, 4)}
    assert logits[2].shape == (4, 1) and not np.allclose(logits[2], logits[4])
    # Only the projection term depends on the label: the logit's difference is ⟨embed(2) − embed(4), h⟩.
    kinds = {type(layer).__name__: layer for layer in projected.layers}
    h = np.asarray(keras.Model(projected.inputs, kinds["Dot"].input[1])([x, z, np.full(4, 2, np.int32)]))
    table = np.asarray(kinds["Embedding"].embeddings)
    assert np.allclose(logits[2] - logits[4], h @ (table[2] - table[4])[:, None], atol=1e-4)


def test_sample_measures_on_known_inputs():
    binary = (np.random.default_rng(0).random((5, 28, 28)) > 0.5).astype(np.float32)
    assert entropy_floor(binary) == pytest.approx(0.0, abs=1e-6)
    assert entropy_floor(np.full((2, 28, 28), 0.5)) == pytest.approx(784 * math.log(2), rel=1e-6)
    a = np.random.default_rng(1).standard_normal((2000, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + [2.0, 0, 0, 0]) == pytest.approx(4.0, rel=0.01)
    assert sharpness(np.zeros((3, 28, 28))) == 0.0 < sharpness(binary)
    judge = with_features(classifier())
    features = np.asarray(judge(binary[..., None])[0])
    row = realism(judge, binary, features, sharpness(binary))
    assert row["fid"] == pytest.approx(0.0, abs=1e-2) and row["sharpness_vs_real"] == 1.0
    assert 0.1 <= row["mean_top_probability"] <= 1.0 and 0.0 <= row["class_entropy"] <= math.log(10)


def test_the_importance_weighted_bound_is_no_looser_than_the_elbo():
    keras.utils.set_random_seed(0)
    vae = build_vae("seed", seed=0)
    x = (np.random.default_rng(0).random((20, 28, 28, 1)) > 0.7).astype(np.float32)
    elbo = negative_elbo_terms(vae.encoder, vae.decoder, x, samples=64)["neg_elbo"]
    iwae = importance_weighted(vae.encoder, vae.decoder, x, samples=64, batch_size=10)
    assert iwae <= elbo + 0.5 and iwae > 0.5 * elbo


def test_the_shipped_judge_and_renderer_meet_their_contracts():
    judge = load_model(FASHION_CLASSIFIER)
    assert read_card(card_path(FASHION_CLASSIFIER))["test_accuracy"] >= 0.9
    assert judge.output_shape == (None, 10)
    renderer = load_model(VAE_RENDERER)
    out = np.asarray(renderer(np.zeros((3, 2), np.float32)))
    assert out.shape == (3, 28, 28, 1) and 0.0 <= out.min() and out.max() <= 1.0
    quality = read_card(card_path(VAE_RENDERER))["sample_quality"]["rows"]
    assert "renderer, z ~ latent mixture" in quality and "real test items (floor)" in quality


@pytest.mark.slow
def test_renderer_and_judge_smoke_runs_write_loadable_models_and_exports(tmp_path, tiny_fashion_dir_large):
    from core.training import classifier as train_classifier
    from core.training import renderer as train_renderer
    from core.training import vae as train_vae

    train_vae.train(train_vae.Recipe(epochs=1, batch_size=32), out=tmp_path, data_dir=str(tiny_fashion_dir_large),
                    verbose=0)
    recipe = train_renderer.Recipe(epochs=1, batch_size=32)
    card = train_renderer.train(recipe, tmp_path, data_dir=str(tiny_fashion_dir_large), verbose=0)
    path = tmp_path / f"{VAE_RENDERER}.keras"
    assert card["encoder"]["sha256"] == read_card(tmp_path / f"{VAE_ENCODER}.json")["sha256"]
    assert train_renderer.Recipe(**read_card(path.with_suffix(".json"))["recipe"]) == recipe
    assert set(card["training"]["per_epoch"]) == {"critic", "generator", "adversarial", "l1"}
    renderer = load_model(VAE_RENDERER, path)
    saved = read_card(path.with_suffix(".json"))
    read_browser_decoder(browser_dir(path), saved)
    read_onnx(onnx_path(path), saved)
    assert np.asarray(renderer(np.zeros((1, 2), np.float32))).shape == (1, 28, 28, 1)
    judged = train_classifier.train(train_classifier.Recipe(epochs=1, batch_size=32), out=tmp_path, limit=200,
                                    data_dir=str(tiny_fashion_dir_large), verbose=0)
    assert 0.0 <= judged["test_accuracy"] <= 1.0 and (tmp_path / f"{FASHION_CLASSIFIER}.keras").is_file()
    x = to_float(load_fashion_mnist(tiny_fashion_dir_large).x_test)
    assert load_model(FASHION_CLASSIFIER, tmp_path / f"{FASHION_CLASSIFIER}.keras")(x).shape == (100, 10)
