"""Train the renderer (core.models.renderer) on the shipped VAE's map; save it, its card and its exports.

Run after ``python -m core.train vae``: the renderer learns to draw at the points the shipped encoder gives, so a
retrained VAE needs a retrained renderer (its card records the encoder's SHA-256 and the page checks it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras

from core.card import read_card, sha256
from core.config import CLASS_NAMES, VAE_DECODER, VAE_ENCODER, VAE_RENDERER, weight_path
from core.data import load_fashion_mnist, to_float
from core.inference import load_model, run_batched
from core.models.renderer import RendererGAN, critic
from core.training.common import fashion_parser, recipe_from_args, save_with_card, Stopwatch, train_validation_split
from core.training.vae import export_decoder


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights; the defaults are the shipped renderer's."""

    epochs: int = field(default=15, metadata={"help": "training epochs"})
    batch_size: int = field(default=128, metadata={"help": "images per batch"})
    seed: int = field(default=0, metadata={"help": "seeds the critic's weights, shuffling and z draws"})
    learning_rate: float = field(default=2e-4, metadata={"help": "Adam's learning rate (both networks)"})
    l1_weight: float = field(default=300.0, metadata={"help": "λ: weight of E|x − G(z)| beside the GAN loss"})
    class_critic: bool = field(default=True, metadata={"help": "the critic also sees the item's class (projection)"})


def train(recipe: Recipe = Recipe(), folder: Path | None = None, limit: int | None = None,
          data_dir: str | None = None, verbose: int = 2) -> dict:
    """Train the renderer from the VAE (encoder + decoder) in ``folder`` (default weights/) and write it there."""
    keras.utils.set_random_seed(recipe.seed)
    folder = Path(folder) if folder else weight_path(VAE_RENDERER).parent
    encoder = load_model(VAE_ENCODER, folder / f"{VAE_ENCODER}.keras")
    decoder = load_model(VAE_DECODER, folder / f"{VAE_DECODER}.keras")
    data = load_fashion_mnist(data_dir)
    x_train, _ = train_validation_split(to_float(data.x_train), limit)
    y_train, _ = train_validation_split(data.y_train.astype("int32"), limit)
    z_mean, z_log_var = run_batched(encoder, x_train, batch_size=1000)

    generator = keras.models.clone_model(decoder)  # the decoder's architecture and, below, its weights
    generator.set_weights(decoder.get_weights())
    generator = keras.Model(generator.inputs, generator.outputs, name=VAE_RENDERER)
    gan = RendererGAN(generator, critic(len(CLASS_NAMES) if recipe.class_critic else 0), recipe.l1_weight,
                      seed=recipe.seed)
    gan.compile(keras.optimizers.Adam(recipe.learning_rate, beta_1=0.5),
                keras.optimizers.Adam(recipe.learning_rate, beta_1=0.5), jit_compile=False)
    clock = Stopwatch()
    import tensorflow as tf  # a dataset hands train_step the (x, μ, log σ²[, y]) columns as they are

    columns = (x_train, z_mean, z_log_var, *([y_train] if recipe.class_critic else []))
    batches = tf.data.Dataset.from_tensor_slices(columns).shuffle(len(x_train), seed=recipe.seed)
    batches = batches.batch(recipe.batch_size, drop_remainder=True)
    history = gan.fit(batches.prefetch(2), epochs=recipe.epochs, verbose=verbose)
    wall = clock.seconds
    card = save_with_card(generator, folder / f"{VAE_RENDERER}.keras", {
        "task": "VAE renderer: z (N, 2) on the VAE's map -> clothing (N, 28, 28, 1) in [0, 1]; draws every item "
                "the latent explorer shows (pad, samples, grids, strips), the VAE decoder stays the model of p(x|z)",
        "encoder": {"file": f"{VAE_ENCODER}.keras", "sha256": read_card(folder / f"{VAE_ENCODER}.json")["sha256"]},
        "initialised_from": {"file": f"{VAE_DECODER}.keras", "sha256": sha256(folder / f"{VAE_DECODER}.keras")},
        "data": {"source": data.source, "sha256_arrays": data.checksum(), "train_images": len(x_train)},
        "training": {"loss": "L_G = E[softplus(−D(G(z), z))] + λ·E|x − G(z)|, L_D = E[softplus(−D(x, z))] + "
                             "E[softplus(D(G(z), z))], z ~ q(z|x) of the frozen encoder; with class_critic D also "
                             "takes the item's class y (projection; core.models.renderer)",
                     "epochs_run": recipe.epochs, "wall_time_s": wall, "cpu_time_s": clock.cpu_seconds,
                     "per_epoch": {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}},
    }, recipe)
    card.update(export_decoder(generator, folder / f"{VAE_RENDERER}.keras", card["sha256"]))
    return card


def main(argv: list[str] | None = None) -> None:
    parser = fashion_parser("renderer", __doc__, Recipe, "folder with the VAE, written to (default: weights/)")
    parser.add_argument("--export-only", action="store_true",
                        help="no training: rewrite the renderer's ONNX and browser exports in --out")
    args = parser.parse_args(argv)
    if args.export_only:
        path = (args.out or weight_path(VAE_RENDERER).parent) / f"{VAE_RENDERER}.keras"
        entries = export_decoder(load_model(VAE_RENDERER, path), path, sha256(path))
        print(f"wrote {entries['onnx']['file']} (max |ONNX - Keras| {entries['onnx']['max_abs_diff_vs_keras']:.1g}) "
              f"and {entries['browser_decoder']['folder']}/: {', '.join(entries['browser_decoder']['files'])}")
        return
    card = train(recipe_from_args(args, Recipe), args.out, args.limit, args.data_dir)
    print(f"saved {card['file']} and its exports: {card['training']['wall_time_s']} s")
