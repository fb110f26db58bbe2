"""Train a document cleaner on random patches of synthetic page pairs (plus real pairs when present).

Fresh degraded pages are generated in a background process while the previous epoch trains; each
epoch samples patches from its new pages and the previous epoch's, with flips and brightness changes
(the generator already varies scale). Both architectures see the same stream for the same budget.
"""
from __future__ import annotations

import argparse
import time
from importlib.metadata import version
from pathlib import Path

import keras
import numpy as np

from core.config import weight_path
from core.documents import pairs as P
from core.documents.real import REAL_DIR, load_real_pairs, split_held_out
from core.documents.real import checksum as real_checksum
from core.documents.synth import all_fonts, bundled_fonts, fonts_checksum
from core.models.documents import ARCHITECTURES
from core.training.common import Stopwatch, epochs_run, save_with_card

PATCH = 128
REAL_SHARE = 0.3  # fraction of patches drawn from real pages when they exist
LR_MAX, LR_MIN = 2e-3, 1e-4
# XLA helps the U-Net's small convolutions but slows the seed's wide full-resolution ones on CPU.
JIT = {"unet": True, "seed": False}


def crop(clean: np.ndarray, noisy: np.ndarray, rng: np.random.Generator, size: int = PATCH):
    """A random aligned (clean, noisy) crop, preferring crops with some ink; pads small pages with white."""
    if min(clean.shape) < size:
        pad = [(0, max(0, size - clean.shape[0])), (0, max(0, size - clean.shape[1]))]
        clean, noisy = np.pad(clean, pad, constant_values=255), np.pad(noisy, pad, mode="edge")
    h, w = clean.shape
    for _ in range(4):
        y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        c = clean[y : y + size, x : x + size]
        if (c < 128).mean() > 0.01:
            break
    return c, noisy[y : y + size, x : x + size]


def augment(clean: np.ndarray, noisy: np.ndarray, rng: np.random.Generator):
    """Flips, and a brightness/contrast change of the scan only (the clean target stays white)."""
    clean, noisy = clean.astype(np.float32) / 255, noisy.astype(np.float32) / 255
    if rng.random() < 0.5:
        clean, noisy = clean[:, ::-1], noisy[:, ::-1]
    if rng.random() < 0.5:
        clean, noisy = clean[::-1], noisy[::-1]
    noisy = np.clip(noisy * rng.uniform(0.85, 1.1) + rng.uniform(-0.06, 0.06), 0, 1)
    return clean, noisy


class PatchStream(keras.utils.PyDataset):
    """Batches of (noisy, clean) patches; the page pool is renewed every epoch from a background process."""

    def __init__(self, pool, seed: int, pages_per_epoch: int, steps: int, batch_size: int,
                 real: list | None = None) -> None:
        super().__init__()
        self.pool, self.seed, self.n, self.steps, self.batch_size = pool, seed, pages_per_epoch, steps, batch_size
        self.real = real or []
        self.rng = np.random.default_rng([seed, 99])
        self.epoch = 0
        self.previous: list = []
        self.current = [f.result() for f in P.submit_training_pairs(pool, seed, 0, pages_per_epoch)]
        self.pending = P.submit_training_pairs(pool, seed, 1, pages_per_epoch)

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int):
        pages = self.current + self.previous
        x = np.empty((self.batch_size, PATCH, PATCH, 1), np.float32)
        y = np.empty_like(x)
        for k in range(self.batch_size):
            use_real = self.real and self.rng.random() < REAL_SHARE
            page = self.real[self.rng.integers(len(self.real))] if use_real else pages[self.rng.integers(len(pages))]
            clean, noisy = augment(*crop(page.clean, page.noisy, self.rng), self.rng)
            x[k, ..., 0], y[k, ..., 0] = noisy, clean
        return x, y

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.previous = self.current
        self.current = [f.result() for f in self.pending]
        self.pending = P.submit_training_pairs(self.pool, self.seed, self.epoch + 1, self.n)


class Budget(keras.callbacks.Callback):
    """Cosine learning-rate decay over a budget of steps or CPU seconds; stops once CPU time is spent.

    CPU time of the training process (all its threads), not wall time: the machine is shared, so two
    runs given the same CPU budget get the same compute whatever else is running beside them.
    """

    def __init__(self, total_steps: int, cpu_seconds: float | None = None) -> None:
        super().__init__()
        self.total_steps, self.cpu_seconds = total_steps, cpu_seconds
        self.start, self.step = time.process_time(), 0

    def on_train_begin(self, logs=None) -> None:
        self.start = time.process_time()

    @property
    def used(self) -> float:
        return time.process_time() - self.start

    def progress(self) -> float:
        done = self.used / self.cpu_seconds if self.cpu_seconds else self.step / self.total_steps
        return min(done, 1.0)

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        lr = LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1 + np.cos(np.pi * self.progress()))
        self.model.optimizer.learning_rate.assign(lr)
        self.step += 1

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.cpu_seconds and self.used >= self.cpu_seconds:
            self.model.stop_training = True


def tiles(pairs: list, size: int = PATCH) -> tuple[np.ndarray, np.ndarray]:
    """Cut pages into non-overlapping (noisy, clean) float tiles for validation."""
    xs, ys = [], []
    for p in pairs:
        h, w = p.clean.shape
        for y in range(0, h - size + 1, size):
            for x in range(0, w - size + 1, size):
                xs.append(p.noisy[y : y + size, x : x + size])
                ys.append(p.clean[y : y + size, x : x + size])
    f = lambda a: np.stack(a)[..., None].astype(np.float32) / 255  # noqa: E731
    return f(xs), f(ys)


def data_description(seed: int, real_train: list, real_held: list) -> dict:
    """What the model was trained on, with checksums, for the card."""
    desc = {
        "synthetic": {
            "generator": "core.documents.synth.render_page + core.documents.degrade.degrade "
                         f"(augraphy {version('augraphy')})",
            "training_stream": f"SeedSequence([{P.TRAIN}, seed={seed}, epoch, page]); pages 400-900 x 360-800 px, "
                               "150-300 dpi, scaled x0.8-1.25",
            "monitor_stream": f"SeedSequence([{P.MONITOR}, page]): 384 x 384 px, validation loss only",
            "held_out": f"SeedSequence([{P.HELD_OUT}, page]), pages 0..{P.HELD_OUT_PAGES - 1}, "
                        f"{P.HELD_OUT_SIZE[0]} x {P.HELD_OUT_SIZE[1]} px; never used in training",
            "fonts_sha256_training": fonts_checksum(all_fonts()),
            "fonts_sha256_held_out": fonts_checksum(bundled_fonts()),
        },
    }
    if real_train:
        desc["real"] = {"source": str(REAL_DIR), "train_pages": len(real_train), "held_out_pages": len(real_held),
                        "sha256_train": real_checksum(real_train), "sha256_held_out": real_checksum(real_held),
                        "held_out_names": [p.name for p in real_held]}
    else:
        desc["real"] = f"absent ({REAL_DIR} not found): trained on synthetic pages only, no real RMSE reported"
    return desc


def train(
    epochs: int = 12,
    architecture: str = "unet",
    out: Path | None = None,
    steps: int = 120,
    batch_size: int = 16,
    pages_per_epoch: int = 24,
    monitor_pages: int = 16,
    seed: int = 0,
    real_dir: str | Path = REAL_DIR,
    workers: int = 1,
    verbose: int = 2,
    cpu_minutes: float | None = None,
) -> dict:
    """Train one cleaner, save it with its card, and return the card."""
    keras.utils.set_random_seed(seed)
    real_train, real_held = split_held_out(load_real_pairs(real_dir)) if real_dir else ([], [])
    model = ARCHITECTURES[architecture]()
    model.compile(optimizer=keras.optimizers.Adam(LR_MAX), loss="mse", jit_compile=JIT[architecture])
    budget = Budget(epochs * steps, cpu_minutes * 60 if cpu_minutes else None)
    clock = Stopwatch()
    with P.executor(workers) as pool:
        val_x, val_y = tiles(P.monitor_pairs(monitor_pages, pool))
        stream = PatchStream(pool, seed, pages_per_epoch, steps, batch_size, real_train)
        history = model.fit(
            stream,
            validation_data=(val_x, val_y),
            epochs=epochs,
            callbacks=[budget, keras.callbacks.EarlyStopping(patience=epochs, restore_best_weights=True)],
            verbose=verbose,
        )
        for f in stream.pending:
            f.cancel()
    wall = clock.seconds
    val_rmse = float(np.sqrt(np.mean((np.asarray(model(val_x, training=False)) - val_y) ** 2)))
    name = "documents" if architecture == "unet" else f"documents_{architecture}"
    path = Path(out) / f"{name}.keras" if out else weight_path(name)
    return save_with_card(
        model,
        path,
        {
            "task": "Scanned-document cleaning: float32 (1, H, W, 1) page in [0, 1] (any H, W; "
                    "core.clean tiles big pages) -> clean page, same shape",
            "data": data_description(seed, real_train, real_held),
            "training": {
                "loss": "mse", "optimizer": f"adam, cosine decay {LR_MAX} -> {LR_MIN} over the budget",
                "budget": f"{cpu_minutes} CPU-minutes of the training process" if cpu_minutes else f"{epochs * steps} steps",
                "cpu_seconds_used": round(budget.used, 1),
                "patch": PATCH, "batch_size": batch_size, "steps_per_epoch": steps,
                "pages_per_epoch": pages_per_epoch, "epochs_requested": epochs,
                "epochs_run": epochs_run(history), "steps_run": budget.step,
                "patches_seen": budget.step * batch_size, "xla": JIT[architecture],
                "augmentation": "per page: size, dpi, scale x0.8-1.25; per patch: h/v flips, "
                                "scan brightness x0.85-1.1 and offset +-0.06",
                "model_selection": "best monitor-set loss (weights restored)",
                "seed": seed, "wall_time_s": wall,
                "val_loss_per_epoch": [round(v, 6) for v in history.history["val_loss"]],
            },
            "monitor_rmse": round(val_rmse, 4),
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.train documents", description=__doc__)
    parser.add_argument("--epochs", type=int, default=12, help="at most this many epochs")
    parser.add_argument("--cpu-minutes", type=float, help="CPU-time budget (give both architectures the same)")
    parser.add_argument("--steps", type=int, default=120, help="batches per epoch")
    parser.add_argument("--baseline", action="store_true", help="train the seed architecture instead")
    parser.add_argument("--limit", type=int, help="smoke run: this many pages per epoch, 4 monitor pages")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--pages", type=int, default=24, help="fresh pages per epoch")
    parser.add_argument("--workers", type=int, default=1, help="page-generating processes")
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="Kaggle dirty-documents folder, if any")
    parser.add_argument("--out", type=Path, help="folder to write to (default: weights/)")
    args = parser.parse_args(argv)
    pages, monitor = (args.limit, 4) if args.limit else (args.pages, 16)
    card = train(args.epochs, "seed" if args.baseline else "unet", args.out, args.steps, args.batch_size,
                 pages, monitor, real_dir=args.real_dir, workers=args.workers, cpu_minutes=args.cpu_minutes)
    print(f"saved {card['file']}: {card['parameters']} parameters, {card['training']['wall_time_s']} s, "
          f"monitor RMSE {card['monitor_rmse']}")
