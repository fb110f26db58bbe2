"""Where the clothing lives on the VAE's 2-D map: Gaussian mixtures fitted to the encoded training set.

"Random" items are drawn from the mixture over all training items (the aggregate posterior) instead of
N(0, I), whose draws often land in the gaps between classes; "random dress" from the mixture fitted to that
class alone. Also holds how well the VAE reconstructs real items (the test set's error percentiles), so an
upload it explains poorly can be told apart. Fitted at training time (``python -m core.train vae``), stored in
``weights/vae_prior.npz`` and checked against the encoder's card; sampling needs only NumPy.
"""
from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.card import read_card, sha256
from core.config import CLASS_NAMES, LATENT_DIM, VAE_ENCODER

ALL_COMPONENTS = 40  # mixture over every training item: enough to follow each class's curved ribbon
CLASS_COMPONENTS = 6  # mixture per class
CLASS_CANDIDATES = 8  # a class sample keeps the points where its class is the most likely, of 8× as many drawn
FIT_PERCENTILE = 99.0  # an upload reconstructed worse than this share of the test items "fits poorly"


class PriorError(ValueError):
    """The prior file is missing, unreadable or made by another encoder."""


@dataclass(frozen=True)
class Mixture:
    """A 2-D Gaussian mixture: weights (K,), means (K, 2), covariances (K, 2, 2)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws, shape (n, 2) float32."""
        k = rng.choice(len(self.weights), size=n, p=self.weights / self.weights.sum())
        chol = np.linalg.cholesky(self.covariances)[k]
        return (self.means[k] + np.einsum("nij,nj->ni", chol, rng.standard_normal((n, LATENT_DIM)))).astype(
            np.float32)

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z) under the mixture, shape (n,)."""
        z = np.asarray(z, np.float64).reshape(-1, LATENT_DIM)
        diff = z[:, None, :] - self.means[None]
        inv = np.linalg.inv(self.covariances)
        maha = np.einsum("nki,kij,nkj->nk", diff, inv, diff)
        log_norm = -0.5 * (LATENT_DIM * np.log(2 * np.pi) + np.log(np.linalg.det(self.covariances)))
        terms = np.log(self.weights)[None] + log_norm[None] - 0.5 * maha
        top = terms.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True)))[:, 0]


@dataclass(frozen=True)
class LatentPrior:
    """The mixture over all training items, one per class, the test items' reconstruction-error percentiles
    (reconstruction_error of encoder μ through the VAE decoder), and the encoder's SHA-256."""

    overall: Mixture
    classes: tuple[Mixture, ...]
    error_percentiles: np.ndarray  # (101,): the 0th…100th percentile of the test items' errors
    encoder_sha256: str

    def sample(self, n: int, seed: int | None = None, label: int | None = None) -> np.ndarray:
        """n points where the training items lie: (n, 2) float32. With ``label``, points of that class's mixture
        where the class is also the most likely one (classes overlap on a 2-D map: a "random dress" drawn
        where coats are as common would not read as a dress); where too few are, the most likely of the rest."""
        rng = np.random.default_rng(seed)
        if label is None:
            return self.overall.sample(n, rng)
        candidates = self.classes[label].sample(CLASS_CANDIDATES * n, rng)
        share = self.class_probabilities(candidates)[:, label]
        keep = np.flatnonzero(share >= 0.5)
        if len(keep) < n:
            keep = np.argsort(-share, kind="stable")[:n]
        return candidates[np.sort(keep[:n])]

    def class_probabilities(self, z: np.ndarray) -> np.ndarray:
        """p(class | z) from the class mixtures (classes equally common, as in Fashion-MNIST): (n, 10)."""
        log_density = np.stack([m.log_density(z) for m in self.classes], axis=1)
        p = np.exp(log_density - log_density.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def most_likely_class(self, z: np.ndarray) -> np.ndarray:
        """For each point, the class whose mixture gives it the highest density: (n,) int."""
        return np.argmax(self.class_probabilities(z), axis=1)

    @property
    def fit_threshold(self) -> float:
        """The reconstruction error that FIT_PERCENTILE % of the test items stay under."""
        return float(self.error_percentiles[int(FIT_PERCENTILE)])

    def error_percentile(self, error: float) -> float:
        """Share (in %) of the test items reconstructed better than an error of ``error``."""
        return float(np.interp(error, self.error_percentiles, np.arange(101.0)))


def reconstruction_error(items: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """How unlike its reconstruction each item is: 1 − SSIM (scikit-image, 7×7 windows) per (28, 28) item.

    Structure, not brightness: a page of text comes back as a smooth gray block, which mean squared error
    scores like an ordinary bag (84–99th percentile of the test items) but SSIM does not (99.7th and above
    for text of 30 px and more on the photo)."""
    from skimage.metrics import structural_similarity

    items = np.asarray(items, np.float64).reshape(-1, 28, 28)
    reconstructions = np.asarray(reconstructions, np.float64).reshape(-1, 28, 28)
    return np.array([1.0 - structural_similarity(x, r, data_range=1.0) for x, r in zip(items, reconstructions)])


def fit_mixture(z: np.ndarray, components: int, seed: int = 0):
    """A full-covariance Gaussian mixture fitted to points z (n, 2) by scikit-learn's EM."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=1e-4).fit(z)
    return Mixture(gm.weights_.astype(np.float64), gm.means_.astype(np.float64), gm.covariances_.astype(np.float64))


def fit_prior(z_train: np.ndarray, labels: np.ndarray, test_errors: np.ndarray, encoder_sha256: str,
              seed: int = 0) -> LatentPrior:
    """Fit the overall and per-class mixtures to the training items' μ; keep the test errors' percentiles."""
    classes = tuple(fit_mixture(z_train[labels == c], CLASS_COMPONENTS, seed) for c in range(len(CLASS_NAMES)))
    return LatentPrior(fit_mixture(z_train, ALL_COMPONENTS, seed), classes,
                       np.percentile(test_errors, np.arange(101.0)), encoder_sha256)


def save_prior(path: Path, prior: LatentPrior) -> None:
    """Store a prior as a compressed .npz (mixture arrays, per-class arrays stacked, percentiles, checksum)."""
    arrays = {"overall_" + k: getattr(prior.overall, k) for k in ("weights", "means", "covariances")}
    for k in ("weights", "means", "covariances"):
        arrays["classes_" + k] = np.stack([getattr(m, k) for m in prior.classes])
    np.savez_compressed(path, **arrays, error_percentiles=prior.error_percentiles,
                        encoder_sha256=np.array(prior.encoder_sha256))


def load_prior(path: Path) -> LatentPrior:
    """Read and check a prior file (against the SHA-256 the encoder's card records for it); PriorError saying
    what to do when it is unusable."""
    path = Path(path)
    if not path.is_file():
        raise PriorError(f"{path.name} is missing: train the VAE with `python -m core.train vae`")
    recorded = read_card(path.with_name(f"{VAE_ENCODER}.json")).get("prior", {})
    if recorded.get("file") == path.name and recorded.get("sha256") != sha256(path):
        raise PriorError(f"{path.name} does not match the SHA-256 in {VAE_ENCODER}.json (damaged or replaced)")
    try:
        with np.load(path, allow_pickle=False) as f:
            overall = Mixture(*(f["overall_" + k] for k in ("weights", "means", "covariances")))
            stacked = [f["classes_" + k] for k in ("weights", "means", "covariances")]
            percentiles, sha = f["error_percentiles"], str(f["encoder_sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise PriorError(f"{path.name} cannot be read ({e}); retrain with `python -m core.train vae`") from e
    classes = tuple(Mixture(*(a[c] for a in stacked)) for c in range(len(stacked[0])))
    if len(classes) != len(CLASS_NAMES) or percentiles.shape != (101,):
        raise PriorError(f"{path.name} holds {len(classes)} class mixtures; expected {len(CLASS_NAMES)}")
    return LatentPrior(overall, classes, percentiles, sha)
