"""Noise models over scikit-image's ``random_noise``, reproducible with a seed.

``amount`` means, per kind: salt-and-pepper -> fraction of pixels flipped; gaussian and speckle ->
standard deviation σ (scikit-image takes the variance σ²); poisson -> relative noise at white,
i.e. white collects 1/amount² photons (scikit-image's own poisson mode has no strength setting).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.util import random_noise


@dataclass(frozen=True)
class NoiseKind:
    """A noise the user can choose, with its slider range."""

    label: str
    amount_label: str
    low: float
    high: float
    default: float
    step: float


NOISE_KINDS: dict[str, NoiseKind] = {
    "s&p": NoiseKind("Salt and pepper", "fraction of pixels", 0.0, 0.5, 0.1, 0.01),
    "gaussian": NoiseKind("Gaussian", "σ", 0.0, 0.5, 0.1, 0.01),
    "speckle": NoiseKind("Speckle", "σ", 0.0, 0.5, 0.2, 0.01),
    "poisson": NoiseKind("Poisson (shot)", "σ at white", 0.0, 0.5, 0.1, 0.01),
}


def add_noise(images: np.ndarray, kind: str, amount: float,
              seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Return float32 ``images`` (values in [0, 1], any shape) with ``kind`` noise of ``amount``."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
    spec = NOISE_KINDS[kind]
    if not spec.low <= amount <= spec.high:
        raise ValueError(f"{kind} amount must lie in [{spec.low}, {spec.high}], got {amount}")
    images = np.asarray(images, dtype=np.float64)
    if amount == 0:
        return images.astype(np.float32)
    rng = np.random.default_rng(seed)
    if kind == "s&p":
        noisy = random_noise(images, mode="s&p", amount=amount, rng=rng)
    elif kind in ("gaussian", "speckle"):
        noisy = random_noise(images, mode=kind, var=amount**2, rng=rng)
    else:
        peak = 1.0 / amount**2
        noisy = np.clip(rng.poisson(images * peak) / peak, 0.0, 1.0)
    return noisy.astype(np.float32)


MIXTURE_LOW = 0.02  # smallest amount random_mixture draws: below it the noise is barely visible


def random_mixture(
    images: np.ndarray,
    rng: np.random.Generator,
    chunk: int = 64,
    weights: dict[str, float] | None = None,
    skew: float = 1.0,
) -> np.ndarray:
    """Noise each chunk of ``images`` with a random kind and amount (training data: every slider setting).

    Kinds are drawn with ``weights`` (uniform by default); amounts are low + (high − low)·u^skew, u
    uniform, so ``skew`` > 1 favours the small amounts users pick most.
    """
    weights = weights or {kind: 1.0 for kind in NOISE_KINDS}
    kinds = list(weights)
    p = np.array([weights[k] for k in kinds], dtype=np.float64)
    p /= p.sum()
    out = np.empty(images.shape, dtype=np.float32)
    for start in range(0, len(images), chunk):
        kind = kinds[rng.choice(len(kinds), p=p)]
        amount = MIXTURE_LOW + (NOISE_KINDS[kind].high - MIXTURE_LOW) * float(rng.uniform()) ** skew
        out[start : start + chunk] = add_noise(images[start : start + chunk], kind, amount, rng)
    return out
