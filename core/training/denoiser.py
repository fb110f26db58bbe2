"""Train a Fashion-MNIST denoiser on noisy -> clean pairs with fresh mixed noise every epoch."""
from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np

from core.config import weight_path
from core.data import load_fashion_mnist, to_float
from core.metrics import psnr
from core.models.denoiser import ARCHITECTURES, psnr_loss
from core.noise import MIXTURE_LOW, add_noise, random_mixture
from core.training.common import Stopwatch, epochs_run, save_with_card, train_validation_split


# Training noise: salt-and-pepper (the page's default) half the time, the other kinds sharing the rest;
# one kind and amount per 16 images, amounts skewed towards the small ones users pick most.
NOISE_WEIGHTS = {"s&p": 3.0, "gaussian": 1.0, "speckle": 1.0, "poisson": 1.0}
AMOUNT_SKEW = 2.0
NOISE_CHUNK = 16


def mixed_noise(clean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The training noise mixture applied to ``clean``."""
    return random_mixture(clean, rng, chunk=NOISE_CHUNK, weights=NOISE_WEIGHTS, skew=AMOUNT_SKEW)


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

    def __init__(self, clean: np.ndarray, batch_size: int, seed: int) -> None:
        super().__init__()
        self.clean, self.batch_size = clean, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(clean))

    def __len__(self) -> int:
        return -(-len(self.clean) // self.batch_size)

    def __getitem__(self, i: int):
        clean = self.clean[self.order[i * self.batch_size : (i + 1) * self.batch_size]]
        return mixed_noise(clean, self.rng), clean

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.clean))


def train(
    epochs: int = 8,
    architecture: str = "unet",
    out: Path | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    seed: int = 0,
    data_dir: str | None = None,
    verbose: int = 1,
) -> dict:
    """Train one denoiser, save it with its card, and return the card."""
    keras.utils.set_random_seed(seed)
    data = load_fashion_mnist(data_dir)
    x_train, x_val = train_validation_split(to_float(data.x_train), limit)
    # A fixed noisy validation set, mixed like training, so early stopping compares like with like.
    val_noisy = mixed_noise(x_val, np.random.default_rng(seed + 1))

    model = ARCHITECTURES[architecture]()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=psnr_loss, jit_compile=True)
    sp10 = SaltPepperPSNR(x_val, seed + 2)
    callbacks = [
        sp10,
        keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1),
    ]
    clock = Stopwatch()
    history = model.fit(
        NoisyPairs(x_train, batch_size, seed),
        validation_data=(val_noisy, x_val),
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    wall = clock.seconds

    name = "denoiser" if architecture == "unet" else f"denoiser_{architecture}"
    path = Path(out) / f"{name}.keras" if out else weight_path(name)
    return save_with_card(
        model,
        path,
        {
            "task": "Fashion-MNIST denoising: float32 (N, 28, 28, 1) in [0, 1] -> same shape and range",
            "data": {"source": data.source, "sha256_arrays": data.checksum(),
                     "train_images": len(x_train), "validation_images": len(x_val)},
            "training": {
                "loss": "−PSNR per image in dB, 10·log10(MSE + 1e-5), averaged over the batch",
                "optimizer": "adam 1e-3, halved on plateau", "batch_size": batch_size,
                "epochs_requested": epochs, "epochs_run": epochs_run(history),
                "noise": f"fresh every epoch: per {NOISE_CHUNK} images a kind drawn with weights "
                         f"{NOISE_WEIGHTS} and amount {MIXTURE_LOW:g} + (slider max − {MIXTURE_LOW:g})·u^{AMOUNT_SKEW:g}, "
                         "u uniform in [0, 1]",
                "early_stopping": "patience 2 on validation loss, best weights restored",
                "seed": seed, "wall_time_s": wall,
                "val_loss_per_epoch": [round(v, 4) for v in history.history["val_loss"]],
                "val_psnr_sp10_per_epoch": [round(v, 2) for v in history.history["val_psnr_sp10"]],
            },
            "validation_psnr_sp10_db": round(sp10.measure(model), 2),
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.train denoiser", description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--baseline", action="store_true", help="train the seed architecture instead")
    parser.add_argument("--limit", type=int, help="train on only this many images (smoke runs)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, help="folder to write to (default: weights/)")
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (default: see core.data)")
    args = parser.parse_args(argv)
    card = train(args.epochs, "seed" if args.baseline else "unet", args.out, args.limit,
                 args.batch_size, data_dir=args.data_dir)
    print(f"saved {card['file']}: {card['parameters']} parameters, {card['training']['wall_time_s']} s, "
          f"validation PSNR at s&p 10 %: {card['validation_psnr_sp10_db']} dB")
