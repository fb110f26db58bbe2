"""Train a document cleaner on random patches of synthetic page pairs (plus real pairs when present).

Fresh degraded pages (with a wider photometric range than the evaluation pages, see
``core.documents.degrade.widen``) are generated in a background process while the previous epoch
trains; the real pages get a fresh ``widen`` every epoch. Every scan is normalised as
``core.serving.documents`` does at inference, then each epoch samples flipped patches (scan, normalised
scan, clean) from its new pages and the previous epoch's. Both architectures see the same stream for the
same budget.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import keras
import numpy as np

from core.card import sha256
from core.config import DOCUMENTS_FIRST_STAGE as FIRST_STAGE_NAME
from core.config import SHIPPED_ARCHITECTURES, model_name, weight_path
from core.documents import pairs as P
from core.documents.degrade import SENSOR_NOISE, bleed_through, camera, sensor_noise, widen
from core.documents.normalize import normalize
from core.documents.normalize import settings as normalize_settings
from core.documents.real import (DIBCO_DIR, HISTORICAL_DIR, HISTORICAL_SOURCES, REAL_DIR, BinaryPage, fold,
                                 historical_sets, load_real_pairs, rescale, split_held_out)
from core.documents.real import checksum as real_checksum
from core.documents.synth import all_fonts, bundled_fonts, fonts_checksum
from core.inference import load_model
from core.models.documents import ARCHITECTURES, InkWeightedMSE
from core.render import to_uint8
from core.training.common import Stopwatch, add_recipe_args, epochs_run, recipe_from_args, save_with_card

PATCH = 128
HISTORICAL_REFRESH = 8  # historical pages given a fresh ``widen`` each epoch (all of them would cost seconds)
# XLA helps the U-Net's small convolutions but slows the seed's wide full-resolution ones on CPU.
JIT = {"unet": True, "seed": False}
TUNED_PARTS = ("all", "encoder", "decoder")
CAMERA_SOURCES = ("synthetic", "kaggle", "historical")  # the pages ``camera_share`` can apply to
T = TypeVar("T")
SHRINK = (0.5, 1.0)  # ``shrink_share``'s factors (log-uniform): the page as scanned at up to half its resolution


def check_tune(part: str) -> None:
    """Refuse a ``tune`` value that names no part of the U-Net."""
    if part not in TUNED_PARTS:
        raise ValueError(f"tune must be one of {', '.join(TUNED_PARTS)}, not {part!r}")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights; the defaults are the shipped model's recipe, its second
    stage: ``FIRST_STAGE`` (synthetic and Kaggle pages from fresh weights), then real historical pages."""

    cpu_minutes: float | None = field(default=40.0, metadata={
        "help": "CPU-time budget of the training process (give both architectures the same); none: epochs x steps"})
    epochs: int = field(default=200, metadata={"help": "at most this many epochs"})
    baseline: bool = field(default=False, metadata={"help": "train the seed architecture instead of the U-Net"})
    steps: int = field(default=120, metadata={"help": "batches per epoch"})
    batch_size: int = field(default=16, metadata={"help": "patches per batch"})
    pages: int = field(default=12, metadata={"help": "fresh synthetic pages per epoch"})
    monitor_pages: int = field(default=16, metadata={"help": "pages of the fixed monitor set (early stopping)"})
    real_share: float = field(default=0.25, metadata={
        "help": "share of patches cut from real Kaggle pages, when present"})
    ink_weight: float = field(default=1.0, metadata={
        "help": "loss weight of ink pixels of the target (paper: 1; 1 = plain MSE)"})
    f_weight: float = field(default=0.0, metadata={
        "help": "weight of 1 - soft F-measure of the ink on patches with binary targets (historical pages, blank "
                "paper), added to the MSE; 0: MSE alone"})
    learning_rate: float = field(default=5e-4, metadata={"help": "Adam's learning rate at the start"})
    final_learning_rate: float = field(default=2e-5, metadata={"help": "... after the cosine decay"})
    seed: int = field(default=0, metadata={"help": "seeds weights, pages and patches"})
    average_from: float | None = field(default=0.5, metadata={
        "help": "keep the mean of the weights after every epoch that ends past this share of the budget "
                "(stochastic weight averaging); none: keep the best monitor-set epoch"})
    init: str | None = field(default=FIRST_STAGE_NAME, metadata={
        "help": "start from this trained cleaner (a name in weights/, or a .keras file); none: fresh weights"})
    historical_share: float = field(default=0.5, metadata={
        "help": "share of patches cut from real historical pages with binary ground truth (dibco-dev, "
                "real-train), when present"})
    hold_out: str | None = field(default=None, metadata={
        "help": "historical set left out of training, for its validation fold (2009, 2010, 2011, msi2015, "
                "nabuco); none: train on all"})
    keep_first_stage: float = field(default=0.2, metadata={
        "help": "with init: the saved weights are this share of the starting model's plus the rest of the "
                "trained ones (WiSE-FT, Wortsman et al. 2022), so the second stage keeps what the first knew"})
    historical_scale: float = field(default=1.0, metadata={
        "help": "a historical page given a fresh widen is also resized by a factor drawn log-uniformly from "
                "[1/this, this] (other collections scan at other resolutions); 1: as scanned"})
    skip_sets: str = field(default="msi2015,nabuco", metadata={
        "help": "historical sets never trained on, comma-separated (msi2015's single band of faint ink taught the "
                "cleaner to keep bleed-through; nabuco's thinner strokes pulled the DIBCO years' edges in, and it "
                "scored no better for being trained on); \"\" trains on every set"})
    camera_share: float = field(default=0.1, metadata={
        "help": "share of the training pages of camera_sources that, after widen, are also captured as by a phone "
                "camera or a poor scanner (core.documents.degrade.camera: blur, sensor noise, JPEG; 0.3 broke "
                "both RMSE lines and printed OCR)"})
    bleed_share: float = field(default=0.0, metadata={
        "help": "share of the historical pages given a fresh widen that first get the bleed-through of their own "
                "ink, mirrored (core.documents.degrade.bleed_through; the truth keeps it as paper)"})
    shrink_share: float = field(default=0.0, metadata={
        "help": "share of the historical pages given a fresh widen that are first shrunk as if scanned coarser "
                "(SHRINK's factors, core.documents.real.rescale; 0.15 and 0.3 were tried and not shipped: "
                "docs/research/documents.md)"})
    noise_share: float = field(default=0.15, metadata={
        "help": "share of the historical pages given a fresh widen that, after camera_share's capture, also get "
                "sensor noise alone (core.documents.degrade.sensor_noise): dibco-dev's scans are clean, real "
                "collections and photos are not"})
    camera_sources: str = field(default=",".join(CAMERA_SOURCES), metadata={
        "help": "which pages camera_share applies to, comma-separated"})
    tune: str = field(default="all", metadata={
        "help": "with init: the layers trained, all, encoder (every layer before the first up-sampling) or "
                "decoder (the rest); the others stay as the starting model left them (surgical fine-tuning, "
                "Lee et al. 2023)"})

    def __post_init__(self) -> None:
        check_tune(self.tune)
        if unknown := set(self.camera_sources.split(",")) - set(CAMERA_SOURCES):
            raise ValueError(f"camera_sources: unknown {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(CAMERA_SOURCES)})")
        if self.tune != "all" and self.init is None:
            raise ValueError(f"tune {self.tune} needs a starting model (init): fresh weights train every layer")

    @property
    def architecture(self) -> str:
        return "seed" if self.baseline else SHIPPED_ARCHITECTURES["documents"]

    @property
    def init_path(self) -> Path | None:
        """The model file the run starts from, if any."""
        if self.init is None:
            return None
        return Path(self.init) if self.init.endswith(".keras") else weight_path(self.init)


# The first stage (weights/documents_base.keras; the seed baseline's budget and losses differ, see its card).
FIRST_STAGE = Recipe(cpu_minutes=120.0, pages=24, real_share=0.5, ink_weight=2.0, learning_rate=2e-3,
                     final_learning_rate=1e-4, average_from=None, init=None, historical_share=0.0,
                     keep_first_stage=0.0, skip_sets="", camera_share=0.0, noise_share=0.0)


def prepare_binary(page: BinaryPage, rng: np.random.Generator | None = None, scale: float = 1.0,
                   camera_share: float = 0.0, bleed_share: float = 0.0, noise_share: float = 0.0,
                   shrink_share: float = 0.0) -> np.ndarray:
    """A historical page as ``prepare`` gives it: the ground truth (ink 0, paper 255) is the clean target; with
    ``rng``, the scan gets a fresh ``widen`` (after ``bleed_through`` at ``bleed_share``, before ``camera`` at
    ``camera_share`` and ``sensor_noise`` at ``noise_share``), when ``scale`` > 1 a size from [1/scale, scale], and
    at ``shrink_share`` a size from ``SHRINK``."""
    if rng is not None:
        if scale > 1:
            page = rescale(page, float(np.exp(rng.uniform(-np.log(scale), np.log(scale)))))
        page = captured(page, rng, shrink_share, shrunk)
        scan = bleed_through(page.scan, page.ink, rng) if bleed_share and rng.random() < bleed_share else page.scan
        scan = captured(captured(widen(scan, rng), rng, camera_share), rng, noise_share, sensor_noise)
        page = BinaryPage(page.name, scan, page.ink)
    return prepare(to_uint8(~page.ink), page.scan)


def captured(noisy: T, rng: np.random.Generator, share: float,
             degrade: Callable[[T, np.random.Generator], T] = camera) -> T:
    """``noisy`` (a scan, or a whole page) given ``degrade`` (``camera`` unless named) with probability ``share`` (no
    draw at all when it is 0, so older recipes' streams stay as they were)."""
    return degrade(noisy, rng) if share and rng.random() < share else noisy


def shrunk(page: BinaryPage, rng: np.random.Generator) -> BinaryPage:
    """``page`` as if scanned coarser, its truth with it: resized by a factor drawn log-uniformly from ``SHRINK``."""
    return rescale(page, float(np.exp(rng.uniform(*np.log(SHRINK)))))


def prepare(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    """A uint8 pair as the network meets it: float (H, W, 3) of scan, normalised scan and clean target."""
    scan = noisy.astype(np.float32) / 255
    return np.stack([scan, normalize(scan), clean.astype(np.float32) / 255], axis=-1)


def crop(page: np.ndarray, rng: np.random.Generator, size: int = PATCH) -> np.ndarray:
    """A random (size, size, 3) crop of a prepared page, preferring crops with some ink, randomly flipped;
    small pages are padded (the scans with their edge, the target with white)."""
    if min(page.shape[:2]) < size:
        pad = [(0, max(0, size - page.shape[0])), (0, max(0, size - page.shape[1]))]
        page = np.concatenate([np.pad(page[..., :2], pad + [(0, 0)], mode="edge"),
                               np.pad(page[..., 2:], pad + [(0, 0)], constant_values=1.0)], axis=-1)
    h, w = page.shape[:2]
    for _ in range(4):
        y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
        c = page[y : y + size, x : x + size]
        if (c[..., 2] < 0.5).mean() > 0.01:
            break
    if rng.random() < 0.5:
        c = c[:, ::-1]
    return c[::-1] if rng.random() < 0.5 else c


class PatchStream(keras.utils.PyDataset):
    """Batches of (noisy, clean) patches; the page pool is renewed every epoch from a background process."""

    def __init__(self, pool, recipe: Recipe, real: list | None = None, historical: list | None = None) -> None:
        super().__init__()
        self.pool, self.recipe, self.seed, self.n = pool, recipe, recipe.seed, recipe.pages
        self.rng = np.random.default_rng([recipe.seed, 99])
        self.real_pairs = real or []
        self.real = self._widened_real()
        self.historical_pages = historical or []
        self.historical = [prepare_binary(p) for p in self.historical_pages]  # as scanned, then widened by turns
        sets = [p.name.split("/")[0] for p in self.historical_pages]
        self.by_set = [[i for i, s in enumerate(sets) if s == name] for name in dict.fromkeys(sets)]
        self.epoch = 0
        self.previous: list = []
        self.current = self._prepared(P.submit_training_pairs(pool, self.seed, 0, self.n))
        self.pending = P.submit_training_pairs(pool, self.seed, 1, self.n)

    def __len__(self) -> int:
        return self.recipe.steps

    def __getitem__(self, i: int):
        pages = self.current + self.previous
        batch = np.empty((self.recipe.batch_size, PATCH, PATCH, 3), np.float32)
        for k in range(self.recipe.batch_size):
            u = self.rng.random()
            if self.historical and u < self.recipe.historical_share:  # each set as often, whatever its size
                members = self.by_set[self.rng.integers(len(self.by_set))]
                page = self.historical[members[self.rng.integers(len(members))]]
            elif self.real and u < self.recipe.historical_share + self.recipe.real_share:
                page = self.real[self.rng.integers(len(self.real))]
            else:
                page = pages[self.rng.integers(len(pages))]
            batch[k] = crop(page, self.rng)
        return (batch[..., :1], batch[..., 1:2]), batch[..., 2:]

    def _widened_real(self) -> list[np.ndarray]:
        return [prepare(p.clean, captured(widen(p.noisy, self.rng), self.rng, self._camera("kaggle")))
                for p in self.real_pairs]

    def _prepared(self, pending: list) -> list[np.ndarray]:
        pairs = (f.result() for f in pending)
        return [prepare(p.clean, captured(p.noisy, self.rng, self._camera("synthetic"))) for p in pairs]

    def _camera(self, source: str) -> float:
        return self.recipe.camera_share if source in self.recipe.camera_sources.split(",") else 0.0

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.previous = self.current
        self.real = self._widened_real()
        for i in self.rng.choice(len(self.historical), min(HISTORICAL_REFRESH, len(self.historical)), replace=False):
            self.historical[i] = prepare_binary(self.historical_pages[i], self.rng, self.recipe.historical_scale,
                                                self._camera("historical"), self.recipe.bleed_share,
                                                self.recipe.noise_share, self.recipe.shrink_share)
        self.current = self._prepared(self.pending)
        self.pending = P.submit_training_pairs(self.pool, self.seed, self.epoch + 1, self.n)


class Budget(keras.callbacks.Callback):
    """Cosine learning-rate decay over a budget of steps or CPU seconds; stops once CPU time is spent.

    CPU time of the training process (all its threads), not wall time: the machine is shared, so two
    runs given the same CPU budget get the same compute whatever else is running beside them.
    """

    def __init__(self, recipe: Recipe) -> None:
        super().__init__()
        self.recipe, self.total_steps = recipe, recipe.epochs * recipe.steps
        self.cpu_seconds = recipe.cpu_minutes * 60 if recipe.cpu_minutes else None
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
        low, high = self.recipe.final_learning_rate, self.recipe.learning_rate
        lr = low + 0.5 * (high - low) * (1 + np.cos(np.pi * self.progress()))
        self.model.optimizer.learning_rate.assign(lr)
        self.step += 1

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.cpu_seconds and self.used >= self.cpu_seconds:
            self.model.stop_training = True


def tune_only(model: keras.Model, part: str) -> None:
    """Leave only ``part`` of a U-Net trainable: the encoder (every layer before the first up-sampling,
    a Conv2DTranspose), the decoder (that layer and all after it), or all."""
    check_tune(part)
    decoder = False
    for layer in model.layers:
        decoder |= isinstance(layer, keras.layers.Conv2DTranspose)
        layer.trainable = part == "all" or (part == "decoder") == decoder


def mean_weights(weight_sets: Iterable[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several ``get_weights()`` lists of one model (summed in float64)."""
    total, n = None, 0
    for weights in weight_sets:
        weights = [np.asarray(w, np.float64) for w in weights]
        total, n = (weights if total is None else [t + w for t, w in zip(total, weights)]), n + 1
    return [t / n for t in total]


def interpolate(first: list[np.ndarray], second: list[np.ndarray], keep: float) -> list[np.ndarray]:
    """``keep`` · first + (1 − ``keep``) · second, weight by weight (two ``get_weights()`` lists of one model)."""
    return [keep * np.asarray(a, np.float64) + (1 - keep) * np.asarray(b, np.float64) for a, b in zip(first, second)]


class WeightAverage(keras.callbacks.Callback):
    """Stochastic weight averaging (Izmailov et al. 2018): when training ends, the model takes the mean of
    its weights after each epoch that ended past ``start`` of the budget."""

    def __init__(self, budget: Budget, start: float) -> None:
        super().__init__()
        self.budget, self.start, self.kept = budget, start, []

    @property
    def epochs(self) -> int:
        return len(self.kept)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.budget.progress() >= self.start:
            self.kept.append(self.model.get_weights())

    def on_train_end(self, logs=None) -> None:
        if self.kept:
            self.model.set_weights(mean_weights(self.kept))


def tiles(pairs: list, size: int = PATCH) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Cut prepared pages into non-overlapping ((scan, normalised), clean) float tiles for validation."""
    out = []
    for p in pairs:
        page = prepare(p.clean, p.noisy)
        h, w = page.shape[:2]
        out += [page[y : y + size, x : x + size] for y in range(0, h - size + 1, size)
                for x in range(0, w - size + 1, size)]
    t = np.stack(out)
    return (t[..., :1], t[..., 1:2]), t[..., 2:]


def data_description(seed: int, real_train: list, real_held: list, historical: list | None = None,
                     held_out: str | None = None) -> dict:
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
    if historical:
        desc["historical"] = {
            "sources": HISTORICAL_SOURCES, "read_in_place_from": [str(DIBCO_DIR), str(HISTORICAL_DIR)],
            "held_out_set": held_out, "train_pages": [p.name for p in historical],
            "sha256_train": hashlib.sha256(b"".join(p.name.encode() + p.scan.tobytes() + p.ink.tobytes()
                                                    for p in historical)).hexdigest()}
    if real_train:
        desc["real"] = {"source": "Kaggle 'Denoising Dirty Documents' training pairs (from NoisyOffice, "
                                  "Castro-Bleda et al., UCI), research use; read in place from " + str(REAL_DIR),
                        "train_pages": len(real_train), "held_out_pages": len(real_held),
                        "sha256_train": real_checksum(real_train), "sha256_held_out": real_checksum(real_held),
                        "held_out_names": [p.name for p in real_held]}
    else:
        desc["real"] = f"absent ({REAL_DIR} not found): trained on synthetic pages only, no real RMSE reported"
    return desc


CHECKPOINTS = "checkpoints"  # with --checkpoints, the folder beside the model that keeps every epoch's weights


def saved_epochs(folder: Path) -> dict[int, Path]:
    """Epoch -> weights file of a run trained with ``checkpoints`` into ``folder``."""
    files = (folder / CHECKPOINTS).glob("epoch*.weights.h5")
    return dict(sorted((int(f.name.removeprefix("epoch").split(".")[0]), f) for f in files))


def train(recipe: Recipe = Recipe(), out: Path | None = None, real_dir: str | Path | None = REAL_DIR,
          workers: int = 1, verbose: int = 2, checkpoints: bool = False, dibco_dir: str | Path = DIBCO_DIR,
          historical_dir: str | Path = HISTORICAL_DIR) -> dict:
    """Train one cleaner, save it with its card, and return the card; with ``checkpoints``, also the weights
    after every epoch (``saved_epochs``, scored by ``python -m core.evaluate documents --checkpoints``)."""
    keras.utils.set_random_seed(recipe.seed)
    real_train, real_held = split_held_out(load_real_pairs(real_dir)) if real_dir else ([], [])
    historical = []
    if recipe.historical_share:
        skipped = set(filter(None, recipe.skip_sets.split(",")))
        historical = [p for p in fold(historical_sets(dibco_dir, historical_dir), recipe.hold_out)[0]
                      if p.name.split("/")[0] not in skipped]
    architecture = recipe.architecture
    model = ARCHITECTURES[architecture]()
    start = load_model(recipe.init_path.stem, recipe.init_path).get_weights() if recipe.init_path else None
    if start:
        model.set_weights(start)
        tune_only(model, recipe.tune)
    loss = InkWeightedMSE(recipe.ink_weight, recipe.f_weight)
    model.compile(optimizer=keras.optimizers.Adam(recipe.learning_rate), loss=loss,
                  jit_compile=JIT[architecture])
    budget = Budget(recipe)
    average = WeightAverage(budget, recipe.average_from) if recipe.average_from is not None else None
    callbacks = [budget, average or keras.callbacks.EarlyStopping(patience=recipe.epochs, restore_best_weights=True)]
    name = model_name("documents", architecture)
    if name == model_name("documents") and recipe.init_path is None:
        name = FIRST_STAGE_NAME  # the shipped cleaner starts from it
    path = Path(out) / f"{name}.keras" if out else weight_path(name)
    if checkpoints:
        (path.parent / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.ModelCheckpoint(str(path.parent / CHECKPOINTS / "epoch{epoch:03d}.weights.h5"),
                                                         save_weights_only=True))
    clock = Stopwatch()
    with P.executor(workers) as pool:
        val_x, val_y = tiles(P.monitor_pairs(recipe.monitor_pages, pool))
        stream = PatchStream(pool, recipe, real_train, historical)
        history = model.fit(
            stream,
            validation_data=(list(val_x), val_y),
            epochs=recipe.epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
        for f in stream.pending:
            f.cancel()
    wall = clock.seconds
    if start and recipe.keep_first_stage:
        model.set_weights(interpolate(start, model.get_weights(), recipe.keep_first_stage))
    val_rmse = float(np.sqrt(np.mean((np.asarray(model(list(val_x), training=False)) - val_y) ** 2)))
    return save_with_card(
        model,
        path,
        {
            "task": "Scanned-document cleaning: float32 (1, H, W, 1) scan in [0, 1] and its normalisation "
                    "(core.documents.normalize) -> clean page, same shape "
                    "(any H, W; core.serving.documents tiles big pages)",
            "data": data_description(recipe.seed, real_train, real_held, historical, recipe.hold_out),
            "training": {
                "loss": "ink-weighted MSE" + (f" + {recipe.f_weight:g} x (1 - soft F-measure) on binary-target patches"
                                              if recipe.f_weight else "") + " (core.models.documents.InkWeightedMSE)",
                "optimizer": "adam, cosine decay from learning_rate to final_learning_rate over the budget",
                "cpu_seconds_used": round(budget.used, 1), "patch": PATCH,
                "epochs_run": epochs_run(history), "steps_run": budget.step,
                "patches_seen": budget.step * recipe.batch_size, "xla": JIT[architecture],
                "input": "(scan, core.documents.normalize.normalize(scan)); output = normalised + correction",
                "normalised_with": normalize_settings(),
                "starts_from": ({"file": recipe.init_path.name, "sha256": sha256(recipe.init_path)}
                                if recipe.init_path else "fresh weights"),
                "augmentation": "per page: size, dpi, scale x0.8-1.25, cursive-like strokes on "
                                f"{P.HANDWRITING:.0%} of synthetic pages, core.documents.degrade.widen (ink/paper "
                                "levels, gamma, shading, dark borders; real pages too, fresh each epoch); "
                                + (f"historical pages resized x1/{s:g}-{s:g} at each widen; "
                                   if (s := recipe.historical_scale) > 1 else "")
                                + (f"{r:.0%} of the historical pages shrunk x{SHRINK[0]:g}-{SHRINK[1]:g} at a "
                                   "widen; " if (r := recipe.shrink_share) else "")
                                + (f"core.documents.degrade.camera (blur, sensor noise, JPEG) on {c:.0%} of the "
                                   f"{recipe.camera_sources} pages after widen; " if (c := recipe.camera_share) else "")
                                + (f"core.documents.degrade.sensor_noise (sigma {SENSOR_NOISE[0]:g}-"
                                   f"{SENSOR_NOISE[1]:g}) on {n:.0%} of the historical pages after that; "
                                   if (n := recipe.noise_share) else "")
                                + (f"core.documents.degrade.bleed_through (the page's own ink mirrored) on {b:.0%} "
                                   "of the historical pages before widen; " if (b := recipe.bleed_share) else "")
                                + "per patch: h/v flips",
                "first_stage_kept": recipe.keep_first_stage if start else 0.0,
                "model_selection": (f"mean of the weights after the {average.epochs} epochs that ended past "
                                    f"{recipe.average_from:.0%} of the budget" if average
                                    else "best monitor-set loss (weights restored)"),
                "wall_time_s": wall,
                "val_loss_per_epoch": [round(v, 6) for v in history.history["val_loss"]],
            },
            "monitor_rmse": round(val_rmse, 4),
        },
        recipe,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.train documents", description=__doc__)
    given = argv if argv is not None else sys.argv[1:]
    first = "--first-stage" in given or "--baseline" in given  # the seed baseline trains from fresh weights too
    parser.add_argument("--first-stage", action="store_true",
                        help="train the first stage (weights/documents_base.keras): every default becomes its "
                             "recipe (so with --baseline too)")
    add_recipe_args(parser, Recipe, FIRST_STAGE if first else None)
    parser.add_argument("--limit", type=int, help="smoke run: this many pages per epoch, 4 monitor pages")
    parser.add_argument("--workers", type=int, default=1, help="page-generating processes")
    parser.add_argument("--real-dir", default=str(REAL_DIR), help="Kaggle dirty-documents folder, if any")
    parser.add_argument("--out", type=Path, help="folder to write to (default: weights/)")
    parser.add_argument("--checkpoints", action="store_true",
                        help="also keep the weights after every epoch in OUT/checkpoints/ "
                             "(to choose one on validation pages)")
    args = parser.parse_args(argv)
    if args.limit:
        args.pages, args.monitor_pages = args.limit, 4
    try:
        recipe = recipe_from_args(args, Recipe)
    except ValueError as error:
        parser.error(str(error))
    card = train(recipe, args.out, args.real_dir, args.workers, checkpoints=args.checkpoints)
    print(f"saved {card['file']}: {card['parameters']} parameters, {card['training']['wall_time_s']} s, "
          f"monitor RMSE {card['monitor_rmse']}")
