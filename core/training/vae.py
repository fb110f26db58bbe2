"""Train a 2-D-latent Fashion-MNIST VAE on −ELBO; save encoder, decoder, cards and the test-set embedding."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.card import read_card, sha256, update_card
from core.config import (SHIPPED_ARCHITECTURES, VAE_DECODER, VAE_EMBEDDING_PATH, VAE_ENCODER,
                         VAE_PRIOR_PATH, model_name, weight_path)
from core.data import load_fashion_mnist, to_float
from core.models.vae import VAE, build_vae, factorize_encoder
from core.inference import load_model, run_batched
from core.serving.vae import (Embedding, browser_dir, encode_means, export_browser_decoder, export_onnx, onnx_path,
                              save_embedding)
from core.serving.vae_prior import ALL_COMPONENTS, CLASS_COMPONENTS, fit_prior, reconstruction_error, save_prior
from core.training.common import (epochs_run, fashion_parser, recipe_from_args, save_with_card, Stopwatch,
                                  train_validation_split)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights; the defaults are the shipped model's recipe."""

    epochs: int = field(default=50, metadata={"help": "training epochs"})
    baseline: bool = field(default=False, metadata={"help": "train the seed architecture instead"})
    batch_size: int = field(default=256, metadata={"help": "images per batch"})
    seed: int = field(default=0, metadata={"help": "seeds weights, shuffling and the sampling layer"})
    learning_rate: float = field(default=2e-3, metadata={"help": "Adam's peak learning rate"})
    cosine_decay: bool = field(default=True, metadata={"help": "decay the learning rate to 0 along a cosine"})
    encoder_rank: int | None = field(default=128, metadata={
        "help": "after training, the encoder's hidden kernel becomes its best approximation of this rank "
                "(truncated SVD: 3.3 M -> 0.96 M parameters at 128); none keeps it whole"})

    @property
    def architecture(self) -> str:
        return "seed" if self.baseline else SHIPPED_ARCHITECTURES["vae"]


ENCODER_TASK = "VAE encoder: float32 (N, 28, 28, 1) in [0, 1] -> [z_mean, z_log_var], each (N, 2)"


def learning_rate(recipe: Recipe, n_train: int) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """Adam's learning rate: constant, or a cosine from the peak to 0 over the whole run."""
    if not recipe.cosine_decay:
        return recipe.learning_rate
    steps = recipe.epochs * -(-n_train // recipe.batch_size)
    return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=steps)


def model_names(architecture: str) -> tuple[str, str]:
    """File stems of the encoder and decoder: vae_encoder/vae_decoder, or vae_seed_* for the baseline."""
    return model_name("vae", architecture, "encoder"), model_name("vae", architecture, "decoder")


def train(recipe: Recipe = Recipe(), out: Path | None = None, limit: int | None = None, data_dir: str | None = None,
          verbose: int = 2) -> dict:
    """Train one VAE by ``recipe``, save encoder and decoder with cards (and, for the shipped architecture, the
    embedding and the latent prior); return the encoder card. The renderer that draws the map is trained next
    (core.training.renderer)."""
    keras.utils.set_random_seed(recipe.seed)
    data = load_fashion_mnist(data_dir)
    x_train, x_val = train_validation_split(to_float(data.x_train), limit)
    x_test, y_test = to_float(data.x_test)[:limit], data.y_test[:limit]

    architecture = recipe.architecture
    vae = build_vae(architecture, seed=recipe.seed)
    # XLA on CPU measured 2x slower than TensorFlow's own kernels for these convolutions.
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate(recipe, len(x_train))), jit_compile=False)
    clock = Stopwatch()
    history = vae.fit(x_train, validation_data=(x_val,), epochs=recipe.epochs, batch_size=recipe.batch_size,
                      shuffle=True, verbose=verbose)
    wall = clock.seconds

    encoder_name, decoder_name = model_names(architecture)
    folder = Path(out) if out else weight_path(encoder_name).parent
    val = {k: round(float(history.history[f"val_{k}"][-1]), 3) for k in ("loss", "reconstruction", "kl")}
    shipped = architecture == SHIPPED_ARCHITECTURES["vae"]
    encoder, factorized = (factorize(vae.encoder, vae.decoder, recipe, x_val) if shipped and recipe.encoder_rank
                           else (vae.encoder, {}))
    common = {
        "data": {"source": data.source, "sha256_arrays": data.checksum(),
                 "train_images": len(x_train), "validation_images": len(x_val)},
        "training": {
            "loss": "−ELBO = BCE summed over 784 pixels + KL(q(z|x) ‖ N(0, I)) summed over the latent, "
                    "batch mean (nats per image)",
            "epochs_run": epochs_run(history), "wall_time_s": wall, "cpu_time_s": clock.cpu_seconds,
            "val_neg_elbo_per_epoch": [round(v, 3) for v in history.history["val_loss"]],
        },
        "validation_neg_elbo_nats": val,
    }
    card = save_with_card(encoder, folder / f"{encoder_name}.keras", {
        "task": ENCODER_TASK, "decoder": f"{decoder_name}.keras", **common, **factorized,
    }, recipe)
    save_with_card(vae.decoder, folder / f"{decoder_name}.keras", {
        "task": "VAE decoder: z (N, 2) -> pixel probabilities (N, 28, 28, 1) in [0, 1]",
        "encoder": f"{encoder_name}.keras", **common,
    }, recipe)
    if shipped:
        write_map(folder, encoder, vae.decoder, data, x_test, y_test, card, recipe.seed)
    return card


def validation_terms(encoder: keras.Model, decoder: keras.Model, x_val: np.ndarray, recipe: Recipe) -> dict:
    """−ELBO and its terms (nats per image) on ``x_val``, as training's validation measures them."""
    vae = VAE(encoder, decoder, seed=recipe.seed)
    vae.compile()
    result = vae.evaluate(x_val, batch_size=recipe.batch_size, verbose=0, return_dict=True)
    return {k: round(float(result[k]), 3) for k in ("loss", "reconstruction", "kl")}


def factorize(encoder: keras.Model, decoder: keras.Model, recipe: Recipe, x_val: np.ndarray
              ) -> tuple[keras.Model, dict]:
    """The trained encoder factorised to ``recipe.encoder_rank`` (core.models.vae.factorize_encoder), and card
    fields: its validation −ELBO, and the whole encoder's size and validation −ELBO beside it."""
    factored = factorize_encoder(encoder, recipe.encoder_rank)
    return factored, {
        "validation_neg_elbo_nats": validation_terms(factored, decoder, x_val, recipe),
        "factorized": {"rank": recipe.encoder_rank, "method": "truncated SVD of the hidden Dense kernel",
                       "whole_parameters": int(encoder.count_params()),
                       "whole_validation_neg_elbo_nats": validation_terms(encoder, decoder, x_val, recipe)},
    }


def write_map(folder: Path, encoder: keras.Model, decoder: keras.Model, data, x_test: np.ndarray,
              y_test: np.ndarray, card: dict, seed: int = 0) -> None:
    """The test-set embedding and the latent prior of the encoder whose ``card`` was just written in ``folder``,
    recorded in that card (and in ``card``)."""
    path = folder / VAE_EMBEDDING_PATH.name
    embedding = save_embedding(path, encoder, x_test, y_test, encoder_sha256=card["sha256"])
    card["embedding"] = {"file": path.name, "sha256": sha256(path), "items": len(x_test)}
    update_card(folder / f"{VAE_ENCODER}.json", embedding=card["embedding"])
    card["prior"] = write_prior(folder, encoder, decoder, data, x_test, embedding, seed)


def factorize_trained(recipe: Recipe = Recipe(), out: Path | None = None, data_dir: str | None = None) -> dict:
    """What ``train`` does after fitting, for a VAE already trained whole in ``out`` (default weights/): factorise
    its encoder, rewrite the encoder's card (keeping the training record), the embedding and the prior."""
    keras.utils.set_random_seed(recipe.seed)
    folder = Path(out) if out else weight_path(VAE_ENCODER).parent
    path = folder / f"{VAE_ENCODER}.keras"
    trained = read_card(path.with_suffix(".json"))
    if "factorized" in trained:
        raise ValueError(f"{path} is already factorised (rank {trained['factorized']['rank']})")
    data = load_fashion_mnist(data_dir)
    _, x_val = train_validation_split(to_float(data.x_train))
    decoder = load_model(VAE_DECODER, folder / f"{VAE_DECODER}.keras")
    encoder, factorized = factorize(load_model(VAE_ENCODER, path), decoder, recipe, x_val)
    card = save_with_card(encoder, path, {
        "task": ENCODER_TASK, "decoder": f"{VAE_DECODER}.keras", "data": trained["data"],
        "training": trained["training"], **factorized}, recipe)
    update_card(folder / f"{VAE_DECODER}.json", recipe=card["recipe"])
    write_map(folder, encoder, decoder, data, to_float(data.x_test), data.y_test, card, recipe.seed)
    return card


def write_prior(folder: Path, encoder: keras.Model, decoder: keras.Model, data, x_test: np.ndarray,
                embedding: Embedding, seed: int = 0) -> dict:
    """Fit the latent mixtures to the encoded training items and keep the reconstruction errors of the test
    items ``x_test`` (their μ from ``embedding`` through the decoder: core.serving.vae_prior); write
    ``vae_prior.npz`` and record it in the encoder's card."""
    errors = reconstruction_error(x_test, run_batched(decoder, embedding.z_mean, batch_size=1000))
    prior = fit_prior(encode_means(encoder, to_float(data.x_train)), data.y_train, errors, embedding.encoder_sha256,
                      seed)
    path = folder / VAE_PRIOR_PATH.name
    save_prior(path, prior)
    entry = {"file": path.name, "sha256": sha256(path), "mixture_components": {"all": ALL_COMPONENTS,
             "per_class": CLASS_COMPONENTS}, "fit_threshold_1_minus_ssim": round(prior.fit_threshold, 5)}
    update_card(folder / f"{VAE_ENCODER}.json", prior=entry)
    return entry


def export_decoder(model: keras.Model, path: Path, made_from: str) -> dict:
    """Write a drawing network's two exports beside its weights at ``path`` (ONNX for the server, the browser
    format for the latent pad: core.serving.vae) and record them in its card; LatentError when either cannot be
    made."""
    entries = {"onnx": export_onnx(model, onnx_path(path), made_from),
               "browser_decoder": export_browser_decoder(model, browser_dir(path), made_from)}
    update_card(path.with_suffix(".json"), **entries)
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = fashion_parser("vae", __doc__, Recipe)
    parser.add_argument("--factorize-only", action="store_true",
                        help="no training: factorise the whole encoder already in --out as --encoder-rank says")
    args = parser.parse_args(argv)
    if args.factorize_only:
        card = factorize_trained(recipe_from_args(args, Recipe), args.out, args.data_dir)
        print(f"saved {card['file']}: {card['parameters']:,} parameters, validation −ELBO "
              f"{card['validation_neg_elbo_nats']['loss']} nats/image "
              f"(whole: {card['factorized']['whole_validation_neg_elbo_nats']['loss']})")
        return
    card = train(recipe_from_args(args, Recipe), args.out, args.limit, args.data_dir)
    print(f"saved {card['file']} (+ decoder): {card['training']['wall_time_s']} s, "
          f"validation −ELBO {card['validation_neg_elbo_nats']['loss']} nats/image")
