import numpy as np
import pytest

from core.noise import NOISE_KINDS, add_noise, random_mixture

GREY = np.full((64, 28, 28, 1), 0.5, np.float32)


@pytest.mark.parametrize("amount", [0.05, 0.1, 0.3])
def test_salt_and_pepper_flips_the_requested_fraction(amount):
    noisy = add_noise(GREY, "s&p", amount, seed=1)
    changed = np.mean(noisy != 0.5)
    assert abs(changed - amount) < 0.01
    assert set(np.unique(noisy[noisy != 0.5])) <= {0.0, 1.0}


@pytest.mark.parametrize("kind", ["gaussian", "speckle", "poisson"])
def test_amount_is_the_noise_standard_deviation(kind):
    # On mid-grey, gaussian σ is the amount; speckle scales it by the pixel (0.5); poisson by sqrt(0.5).
    expected = {"gaussian": 0.1, "speckle": 0.05, "poisson": 0.1 * np.sqrt(0.5)}[kind]
    noisy = add_noise(GREY, kind, 0.1, seed=2)
    assert abs(np.std(noisy - GREY) - expected) < 0.1 * expected


@pytest.mark.parametrize("kind", list(NOISE_KINDS))
def test_output_in_range_and_reproducible(kind):
    a = add_noise(GREY, kind, 0.4, seed=7)
    assert a.dtype == np.float32 and a.shape == GREY.shape
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, add_noise(GREY, kind, 0.4, seed=7))
    assert not np.array_equal(a, add_noise(GREY, kind, 0.4, seed=8))


def test_zero_amount_is_identity():
    np.testing.assert_array_equal(add_noise(GREY, "s&p", 0.0, seed=0), GREY)


def test_bad_kind_and_amount_are_rejected():
    with pytest.raises(ValueError, match="unknown noise"):
        add_noise(GREY, "blur", 0.1)
    with pytest.raises(ValueError, match="must lie in"):
        add_noise(GREY, "s&p", 0.9)


def test_mixture_uses_several_kinds():
    noisy = random_mixture(np.repeat(GREY, 8, axis=0), np.random.default_rng(0), chunk=32)
    salt_pepper_chunks = [np.isin(noisy[i : i + 32], [0.0, 0.5, 1.0]).all() for i in range(0, len(noisy), 32)]
    assert 0 < sum(salt_pepper_chunks) < len(salt_pepper_chunks)


def test_mixture_weights_choose_the_kinds():
    # Weight only salt-and-pepper: every chunk holds 0.5 plus flipped pixels (0 or 1) and nothing else.
    noisy = random_mixture(np.repeat(GREY, 4, axis=0), np.random.default_rng(0), chunk=16, weights={"s&p": 1.0})
    assert np.isin(noisy, [0.0, 0.5, 1.0]).all()


def test_mixture_skew_favours_small_amounts():
    # Flipped fraction per chunk is the amount; u² puts the median amount at 0.02 + 0.48/4 = 0.14.
    grey = np.repeat(GREY, 8, axis=0)
    amounts = [
        np.mean(random_mixture(grey, np.random.default_rng(s), chunk=512, weights={"s&p": 1.0}, skew=skew) != 0.5)
        for skew in (1.0, 2.0) for s in range(40)
    ]
    flat, skewed = np.median(amounts[:40]), np.median(amounts[40:])
    assert abs(flat - 0.26) < 0.06 and abs(skewed - 0.14) < 0.05, (flat, skewed)
