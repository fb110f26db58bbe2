"""Train a Fashion-MNIST denoiser on noisy -> clean pairs with fresh mixed noise every epoch."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.config import SHIPPED_ARCHITECTURES, model_name, weight_path
from core.data import load_fashion_mnist, to_float
from core.metrics import psnr
from core.models.denoiser import ARCHITECTURES, psnr_loss
from core.noise import add_noise, random_mixture
from core.training.common import (epochs_run, fashion_parser, recipe_from_args, save_with_card, Stopwatch,
                                  train_validation_split)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights; the defaults are the shipped model's recipe."""

    epochs: int = field(default=16, metadata={"help": "at most this many epochs (early stopping may end sooner)"})
    baseline: bool = field(default=False, metadata={"help": "train the seed architecture instead of the U-Net"})
    batch_size: int = field(default=32, metadata={"help": "images per batch"})
    seed: int = field(default=0, metadata={"help": "seeds weights, shuffling and noise"})
    learning_rate: float = field(default=1e-3, metadata={"help": "Adam's learning rate, halved on a plateau"})
    early_stopping_patience: int = field(default=2, metadata={"help": "epochs without a better validation loss"})
    # Training noise: salt-and-pepper (the page's default) half the time, the other kinds sharing the rest;
    # one kind and amount per chunk of images, amount = MIXTURE_LOW + (kind's max − MIXTURE_LOW)·u^skew.
    noise_weights: dict[str, float] = field(
        default_factory=lambda: {"s&p": 3.0, "gaussian": 1.0, "speckle": 1.0, "poisson": 1.0})
    noise_chunk: int = field(default=16, metadata={"help": "images sharing one noise kind and amount"})
    amount_skew: float = field(default=2.0, metadata={"help": "exponent on u: above 1 favours small amounts"})

    @property
    def architecture(self) -> str:
        return "seed" if self.baseline else SHIPPED_ARCHITECTURES["denoiser"]

    def noise(self, clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The training noise mixture applied to ``clean``."""
        return random_mixture(clean, rng, chunk=self.noise_chunk, weights=self.noise_weights, skew=self.amount_skew)


class SaltPepperPSNR(keras.callbacks.Callback):
    """Logs mean validation PSNR at salt-and-pepper 10 % after every epoch (the headline number)."""

    def __init__(self, clean: np.ndarray, seed: int) -> None:
        super().__init__()
        self.clean, self.noisy = clean, add_noise(clean, "s&p", 0.1, seed=seed)

    def measure(self, model: keras.Model) -> float:
        return float(np.mean(psnr(self.clean, model(self.noisy, training=False))))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["val_psnr_sp10"] = self.measure(self.model)


class NoisyPairs(keras.utils.PyDataset):
    """Batches of (noisy, clean); every epoch reshuffles and draws new noise kinds and amounts."""

    def __init__(self, clean: np.ndarray, recipe: Recipe) -> None:
        super().__init__()
        self.clean, self.recipe = clean, recipe
        self.rng = np.random.default_rng(recipe.seed)
        self.order = self.rng.permutation(len(clean))

    def __len__(self) -> int:
        return -(-len(self.clean) // self.recipe.batch_size)

    def __getitem__(self, i: int):
        size = self.recipe.batch_size
        clean = self.clean[self.order[i * size : (i + 1) * size]]
        return self.recipe.noise(clean, self.rng), clean

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.clean))


def train(recipe: Recipe = Recipe(), out: Path | None = None, limit: int | None = None,
          data_dir: str | None = None, verbose: int = 1) -> dict:
    """Train one denoiser by ``recipe``, save it with its card (to ``out`` or weights/), return the card;
    ``limit`` cuts the training images for smoke runs."""
    seed = recipe.seed
    keras.utils.set_random_seed(seed)
    data = load_fashion_mnist(data_dir)
    x_train, x_val = train_validation_split(to_float(data.x_train), limit)
    # A fixed noisy validation set, mixed like training, so early stopping compares like with like.
    val_noisy = recipe.noise(x_val, np.random.default_rng(seed + 1))

    model = ARCHITECTURES[recipe.architecture]()
    model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss=psnr_loss, jit_compile=True)
    sp10 = SaltPepperPSNR(x_val, seed + 2)
    callbacks = [
        sp10,
        keras.callbacks.EarlyStopping(patience=recipe.early_stopping_patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1),
    ]
    clock = Stopwatch()
    history = model.fit(NoisyPairs(x_train, recipe), validation_data=(val_noisy, x_val), epochs=recipe.epochs,
                        callbacks=callbacks, verbose=verbose)
    name = model_name("denoiser", recipe.architecture)
    card = {
        "task": "Fashion-MNIST denoising: float32 (N, 28, 28, 1) in [0, 1] -> same shape and range",
        "data": {"source": data.source, "sha256_arrays": data.checksum(),
                 "train_images": len(x_train), "validation_images": len(x_val)},
        "training": {
            "epochs_run": epochs_run(history), "wall_time_s": clock.seconds,
            "val_loss_per_epoch": [round(v, 4) for v in history.history["val_loss"]],
            "val_psnr_sp10_per_epoch": [round(v, 2) for v in history.history["val_psnr_sp10"]],
        },
        "validation_psnr_sp10_db": round(sp10.measure(model), 2),
    }
    return save_with_card(model, Path(out) / f"{name}.keras" if out else weight_path(name), card, recipe)


def main(argv: list[str] | None = None) -> None:
    parser = fashion_parser("denoiser", __doc__, Recipe)
    args = parser.parse_args(argv)
    card = train(recipe_from_args(args, Recipe), args.out, args.limit, args.data_dir)
    print(f"saved {card['file']}: {card['parameters']} parameters, {card['training']['wall_time_s']} s, "
          f"validation PSNR at s&p 10 %: {card['validation_psnr_sp10_db']} dB")
