"""How good the clothing VAE is: test −ELBO (nats per image) and its terms for the shipped VAE and the seed
baseline, a 100-sample importance-weighted bound and the data's entropy floor beside it, and the realism of
what the explorer draws (FID, sharpness, confidence and class spread in the project classifier's eyes) for each
sampler: the VAE decoder or the renderer, at z ~ N(0, I) or from the latent mixture."""
from __future__ import annotations

import argparse

import keras
import numpy as np

from core.card import update_card
from scipy import linalg, ndimage

from core.config import FASHION_CLASSIFIER, VAE_PRIOR_PATH, VAE_RENDERER, card_path
from core.models.classifier import with_features
from core.serving.vae import encode_means, prior_samples
from core.serving.vae_prior import load_prior
from core.data import load_fashion_mnist, to_float
from core.inference import WeightsError, load_model, run_batched
from core.models.vae import kl_divergence, reconstruction_loss
from core.training.vae import model_names


def negative_elbo_terms(encoder: keras.Model, decoder: keras.Model, images: np.ndarray, samples: int = 8,
                        seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean −ELBO, reconstruction and KL in nats per image; the reconstruction expectation over
    q(z|x) is estimated with ``samples`` draws per image (fixed seed), the KL is exact."""
    rng = np.random.default_rng(seed)
    reconstruction, kl = [], []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        z_mean, z_log_var = (np.asarray(t) for t in encoder(x, training=False))
        kl.append(np.asarray(kl_divergence(z_mean, z_log_var)))
        per_sample = []
        for _ in range(samples):
            z = z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape).astype(np.float32)
            per_sample.append(np.asarray(reconstruction_loss(x, decoder(z, training=False))))
        reconstruction.append(np.mean(per_sample, axis=0))
    rec, kld = float(np.mean(np.concatenate(reconstruction))), float(np.mean(np.concatenate(kl)))
    return {"neg_elbo": round(rec + kld, 3), "reconstruction": round(rec, 3), "kl": round(kld, 3)}


def entropy_floor(images: np.ndarray) -> float:
    """The lowest mean continuous BCE any decoder can reach: Σ over pixels of H(x) = −x log x − (1−x) log(1−x)."""
    x = np.clip(np.asarray(images, np.float64), 1e-12, 1 - 1e-12)
    h = -(x * np.log(x) + (1 - x) * np.log(1 - x))
    return float(np.mean(np.sum(h.reshape(len(x), -1), axis=1)))


def importance_weighted(encoder: keras.Model, decoder: keras.Model, images: np.ndarray, samples: int = 100,
                        seed: int = 0, batch_size: int = 100) -> float:
    """−log p(x) bounded with ``samples`` importance samples from q(z|x) (IWAE; tighter than −ELBO), nats/image:
    −log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x)."""
    rng = np.random.default_rng(seed)
    bounds = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size]
        mu, log_var = (np.asarray(t, np.float64) for t in encoder(x, training=False))
        eps = rng.standard_normal((samples, *mu.shape))
        z = mu + np.exp(0.5 * log_var) * eps  # (K, B, 2)
        probs = np.asarray(decoder(z.reshape(-1, mu.shape[1]).astype(np.float32), training=False))
        log_px = -np.asarray(reconstruction_loss(np.repeat(x[None], samples, 0).reshape(-1, *x.shape[1:]), probs))
        log_pz = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=-1)
        log_qz = -0.5 * np.sum(eps**2 + np.log(2 * np.pi) + log_var, axis=-1)
        w = log_px.reshape(samples, -1) + log_pz - log_qz
        top = w.max(axis=0)
        bounds.append(top + np.log(np.mean(np.exp(w - top), axis=0)))
    return float(-np.mean(np.concatenate(bounds)))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets: |μa − μb|² + Tr(Σa + Σb − 2 (Σa Σb)^½)."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * root))


def sharpness(images: np.ndarray) -> float:
    """Mean absolute Laplacian of (N, 28, 28[, 1]) images in [0, 1]."""
    x = np.asarray(images, np.float64).reshape(len(images), 28, 28)
    return float(np.mean([np.abs(ndimage.laplace(i)).mean() for i in x]))


def judge(classifier: keras.Model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's 128-d features and class probabilities of images (N, 28, 28[, 1])."""
    return run_batched(classifier, np.reshape(images, (-1, 28, 28, 1)), batch_size=1000)


def realism(classifier: keras.Model, images: np.ndarray, real: np.ndarray, real_sharpness: float) -> dict:
    """FID against ``real``, sharpness relative to real items, mean top probability, entropy of predicted classes."""
    features, probabilities = judge(classifier, images)
    counts = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1]) / len(images)
    entropy = -np.sum(counts[counts > 0] * np.log(counts[counts > 0]))
    return {"fid": round(frechet_distance(features, real), 2),
            "sharpness_vs_real": round(sharpness(images) / real_sharpness, 3),
            "mean_top_probability": round(float(probabilities.max(axis=1).mean()), 3),
            "class_entropy": round(float(entropy), 3)}


def sample_quality(encoder: keras.Model, decoder: keras.Model, renderer: keras.Model, classifier: keras.Model,
                   x_test: np.ndarray, n: int = 5000, seed: int = 0) -> dict:
    """Realism of n items from each sampler against n real test items (the other n real items: the floor), and
    how often a class sample is classified as its class."""
    judge_model = with_features(classifier)
    n = min(n, len(x_test) // 2)  # a --limit run has fewer test items
    real, other = x_test[:n], x_test[n : 2 * n]
    real_features = judge(judge_model, real)[0]
    real_sharpness = sharpness(real)
    prior = load_prior(VAE_PRIOR_PATH)
    points = {"N(0, I)": prior_samples(n, seed), "latent mixture": prior.sample(n, seed)}
    z_test = encode_means(encoder, real)
    rows = {"real test items (floor)": realism(judge_model, other, real_features, real_sharpness)}
    for network_name, network in (("VAE decoder", decoder), ("renderer", renderer)):
        draw = lambda z: np.asarray(network(z, training=False))  # noqa: E731
        rows[f"{network_name}, reconstructions (μ)"] = realism(judge_model, draw(z_test), real_features, real_sharpness)
        for prior_name, z in points.items():
            rows[f"{network_name}, z ~ {prior_name}"] = realism(judge_model, draw(z), real_features, real_sharpness)
    per_class = n // 10
    hits = []
    for label in range(10):
        probabilities = judge(judge_model, np.asarray(renderer(prior.sample(per_class, seed, label))))[1]
        hits.append(float(np.mean(probabilities.argmax(axis=1) == label)))
    return {"samples": n, "rows": rows, "class_samples_classified_as_their_class": [round(h, 3) for h in hits]}


def evaluate(architectures: tuple[str, ...] = ("conv", "seed"), samples: int = 8, limit: int | None = None,
             data_dir: str | None = None, write: bool = True, iw_samples: int = 100) -> dict[str, dict]:
    """Evaluate each architecture's shipped encoder/decoder on the test set; write the results into their cards."""
    data = load_fashion_mnist(data_dir)
    x_test = to_float(data.x_test[:limit] if limit else data.x_test)
    results, models = {}, {}
    for architecture in architectures:
        models[architecture] = tuple(load_model(name) for name in model_names(architecture))
        results[architecture] = negative_elbo_terms(*models[architecture], x_test, samples)
    floor = entropy_floor(x_test)
    encoder, decoder = models.get("conv") or tuple(load_model(name) for name in model_names("conv"))
    iwae = importance_weighted(encoder, decoder, x_test, samples=iw_samples)
    renderer, classifier = load_model(VAE_RENDERER), load_model(FASHION_CLASSIFIER)
    quality = sample_quality(encoder, decoder, renderer, classifier, x_test)
    results["bounds"] = {"entropy_floor": round(floor, 3), "importance_weighted_neg_log_likelihood": round(iwae, 3),
                         "importance_samples": iw_samples}
    results["samples"] = quality
    if write:
        test = {"images": len(x_test), "samples_per_image": samples, "data_sha256_arrays": data.checksum()}
        for architecture in architectures:
            fields = {"test_neg_elbo_nats": results[architecture], "test_set": test}
            if architecture == "conv" and "seed" in results:
                fields["seed_baseline_test_neg_elbo_nats"] = results["seed"]
                fields["beats_seed_baseline"] = results["conv"]["neg_elbo"] < results["seed"]["neg_elbo"]
            if architecture == "conv":
                fields["bounds_nats"] = results["bounds"]
            for name in model_names(architecture):
                update_card(card_path(name), **fields)
        update_card(card_path(VAE_RENDERER), sample_quality=quality, test_set=test)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate vae", description=__doc__)
    parser.add_argument("--samples", type=int, default=8, help="z draws per image for the reconstruction term")
    parser.add_argument("--limit", type=int, help="evaluate on only this many test images")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the model cards alone")
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (default: see core.data)")
    parser.add_argument("--iw-samples", type=int, default=100, help="importance samples per image for the IWAE bound")
    args = parser.parse_args(argv)
    try:
        results = evaluate(samples=args.samples, limit=args.limit, data_dir=args.data_dir, write=not args.no_write,
                           iw_samples=args.iw_samples)
    except WeightsError as e:
        raise SystemExit(f"{e}\n(the seed baseline is trained with `python -m core.train vae --baseline`)")
    print(f"{'model':<10}{'−ELBO':>10}{'recon.':>10}{'KL':>8}   (test set, nats per image)")
    for architecture in ("conv", "seed"):
        r = results[architecture]
        label = "shipped" if architecture == "conv" else architecture
        print(f"{label:<10}{r['neg_elbo']:>10.2f}{r['reconstruction']:>10.2f}{r['kl']:>8.2f}")
    bounds = results["bounds"]
    print(f"shipped −log p(x) ≤ {bounds['importance_weighted_neg_log_likelihood']:.2f} "
          f"({bounds['importance_samples']}-sample IWAE); the data's entropy floor {bounds['entropy_floor']:.2f}")
    print(f"\n{'sampler':<40}{'FID':>8}{'sharp':>8}{'top p':>8}{'H(cls)':>8}")
    for name, row in results["samples"]["rows"].items():
        print(f"{name:<40}{row['fid']:>8.2f}{row['sharpness_vs_real']:>8.3f}{row['mean_top_probability']:>8.3f}"
              f"{row['class_entropy']:>8.3f}")
    print("class samples classified as their class:", results["samples"]["class_samples_classified_as_their_class"])
