"""Test-set −ELBO (nats per image) and its two terms for the shipped VAE and the seed baseline."""
from __future__ import annotations

import argparse

import keras
import numpy as np

from core.card import update_card
from core.config import card_path
from core.data import load_fashion_mnist, to_float
from core.inference import WeightsError, load_model
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


def evaluate(architectures: tuple[str, ...] = ("conv", "seed"), samples: int = 8, limit: int | None = None,
             data_dir: str | None = None, write: bool = True) -> dict[str, dict]:
    """Evaluate each architecture's shipped encoder/decoder on the test set; write the results into their cards."""
    data = load_fashion_mnist(data_dir)
    x_test = to_float(data.x_test[:limit] if limit else data.x_test)
    results = {}
    for architecture in architectures:
        names = model_names(architecture)
        encoder, decoder = (load_model(name) for name in names)
        results[architecture] = negative_elbo_terms(encoder, decoder, x_test, samples)
    if write:
        test = {"images": len(x_test), "samples_per_image": samples, "data_sha256_arrays": data.checksum()}
        for architecture in architectures:
            fields = {"test_neg_elbo_nats": results[architecture], "test_set": test}
            if architecture == "conv" and "seed" in results:
                fields["seed_baseline_test_neg_elbo_nats"] = results["seed"]
                fields["beats_seed_baseline"] = results["conv"]["neg_elbo"] < results["seed"]["neg_elbo"]
            for name in model_names(architecture):
                update_card(card_path(name), **fields)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate vae", description=__doc__)
    parser.add_argument("--samples", type=int, default=8, help="z draws per image for the reconstruction term")
    parser.add_argument("--limit", type=int, help="evaluate on only this many test images")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the model cards alone")
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (default: see core.data)")
    args = parser.parse_args(argv)
    try:
        results = evaluate(samples=args.samples, limit=args.limit, data_dir=args.data_dir, write=not args.no_write)
    except WeightsError as e:
        raise SystemExit(f"{e}\n(the seed baseline is trained with `python -m core.train vae --baseline`)")
    print(f"{'model':<10}{'−ELBO':>10}{'recon.':>10}{'KL':>8}   (test set, nats per image)")
    for architecture, r in results.items():
        label = "shipped" if architecture == "conv" else architecture
        print(f"{label:<10}{r['neg_elbo']:>10.2f}{r['reconstruction']:>10.2f}{r['kl']:>8.2f}")
