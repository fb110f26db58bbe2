"""Train the judge: a small Fashion-MNIST classifier whose features score generated clothing (core.evaluation.vae)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.config import FASHION_CLASSIFIER, weight_path
from core.data import load_fashion_mnist, to_float
from core.models.classifier import classifier
from core.training.common import epochs_run, fashion_parser, recipe_from_args, save_with_card, Stopwatch


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the trained weights; the defaults are the shipped classifier's."""

    epochs: int = field(default=8, metadata={"help": "training epochs"})
    batch_size: int = field(default=128, metadata={"help": "images per batch"})
    seed: int = field(default=0, metadata={"help": "seeds weights and shuffling"})
    learning_rate: float = field(default=1e-3, metadata={"help": "Adam's learning rate"})


def train(recipe: Recipe = Recipe(), out: Path | None = None, limit: int | None = None, data_dir: str | None = None,
          verbose: int = 2) -> dict:
    """Train on all 60,000 training items (shuffled), report test accuracy; save the model and its card."""
    keras.utils.set_random_seed(recipe.seed)
    data = load_fashion_mnist(data_dir)
    x_train, y_train = to_float(data.x_train)[:limit], data.y_train[:limit]
    x_test, y_test = to_float(data.x_test), data.y_test
    model = classifier()
    model.compile(keras.optimizers.Adam(recipe.learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    clock = Stopwatch()
    history = model.fit(x_train, y_train, epochs=recipe.epochs, batch_size=recipe.batch_size, shuffle=True,
                        verbose=verbose)
    wall = clock.seconds
    probabilities = model.predict(x_test, batch_size=1000, verbose=0)
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == y_test))
    path = (Path(out) if out else weight_path(FASHION_CLASSIFIER).parent) / f"{FASHION_CLASSIFIER}.keras"
    return save_with_card(model, path, {
        "task": "Fashion-MNIST classifier: float32 (N, 28, 28, 1) in [0, 1] -> class probabilities (N, 10); its "
                "128-d 'features' layer is the space in which generated clothing is scored (FID)",
        "data": {"source": data.source, "sha256_arrays": data.checksum(), "train_images": len(x_train)},
        "training": {"loss": "cross-entropy", "epochs_run": epochs_run(history), "wall_time_s": wall,
                     "cpu_time_s": clock.cpu_seconds},
        "test_accuracy": round(accuracy, 4),
    }, recipe)


def main(argv: list[str] | None = None) -> None:
    parser = fashion_parser("classifier", __doc__, Recipe)
    args = parser.parse_args(argv)
    card = train(recipe_from_args(args, Recipe), args.out, args.limit, args.data_dir)
    print(f"saved {card['file']}: test accuracy {card['test_accuracy']:.4f}, {card['training']['wall_time_s']} s")
