"""The designer's studio on the VAE's map (core.serving.garment, core.serving.vae_prior): a garment's point and
fit, the poor-fit verdict for a page of text, variations and nearest items, and class samples that land in their
class's region."""
from __future__ import annotations

import numpy as np
import pytest

from core import config
from core.config import CLASS_NAMES
from core.serving.garment import GarmentReader, nearest_items, variation_points
from core.serving.vae import load_embedding, prepare_garment
from core.serving.vae_prior import load_prior
from tests.test_garment import product_shot, text_page


@pytest.fixture(scope="module")
def reader() -> GarmentReader:
    from core.inference import load_model

    return GarmentReader(load_model(config.VAE_ENCODER), load_model(config.VAE_DECODER),
                         load_prior(config.VAE_PRIOR_PATH))


@pytest.fixture(scope="module")
def embedding():
    return load_embedding(config.VAE_EMBEDDING_PATH)


def test_a_photographed_test_item_lands_where_the_item_itself_lies(reader, embedding):
    """Product shots of real test items (three of each class) land next to the item's own μ in the shipped
    embedding (typical distance between two test items: about 1.7), and fit well."""
    from core.data import load_test_set

    test = load_test_set()
    images, labels = test.images.reshape(-1, 28, 28), test.labels
    picks = [int(np.flatnonzero(labels == c)[k]) for c in range(len(CLASS_NAMES)) for k in range(3)]
    distances, poor = [], 0
    for i in picks:
        fit = reader(prepare_garment(product_shot(images[i], at=(60, 40))))
        distances.append(float(np.linalg.norm(np.array(fit.z) - embedding.z_mean[i])))
        poor += fit.poor
        assert fit.reconstruction.shape == (28, 28) and 0 <= fit.percentile <= 100
    assert np.median(distances) < 0.25 and max(distances) < 1.0 and poor <= 2, (distances, poor)


def test_a_page_of_text_is_told_apart(reader):
    """A letter in large print (30-pixel letters on an 850-pixel-wide page) is beyond the fit threshold."""
    fit = reader(prepare_garment(text_page(30)))
    assert fit.poor and fit.error > reader.prior.fit_threshold and fit.percentile > 99


def test_variations_surround_the_point_and_nearest_items_are_nearest(embedding):
    points = variation_points((1.0, -2.0), 0.5)
    assert points.shape == (25, 2)
    np.testing.assert_allclose(points[12], (1.0, -2.0), atol=1e-6)  # the garment in the middle
    np.testing.assert_allclose(points[0], (0.5, -1.5), atol=1e-6)  # top left: lowest z1, highest z2
    np.testing.assert_allclose(points[-1], (1.5, -2.5), atol=1e-6)
    nearest = nearest_items(embedding, (0.3, 0.2), 8)
    distance = np.linalg.norm(embedding.z_mean - np.array([0.3, 0.2], np.float32), axis=1)
    assert list(nearest) == list(np.argsort(distance, kind="stable")[:8])


@pytest.mark.parametrize("label", [1, 5, 7, 8, 9])  # trouser, sandal, sneaker, bag, ankle boot: distinctive
def test_class_samples_land_in_that_class_region(embedding, label):
    """Most items drawn for a class have mostly that class among their 10 nearest test items."""
    prior = load_prior(config.VAE_PRIOR_PATH)
    z = prior.sample(200, seed=label, label=label)
    distance = ((z[:, None, :] - embedding.z_mean[None]) ** 2).sum(axis=2)
    neighbours = embedding.labels[np.argsort(distance, axis=1)[:, :10]]
    share = float(np.mean((neighbours == label).mean(axis=1) > 0.5))
    assert share >= 0.8, (CLASS_NAMES[label], share)
