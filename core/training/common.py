"""Pieces every training run shares: the recipe as data, timing, saving the model with its card."""
from __future__ import annotations

import argparse
import dataclasses
import time
import types
import typing
from pathlib import Path

import keras
import numpy as np

from core.card import environment, sha256, write_card


CLI_TYPES = (bool, int, float, str)  # recipe fields of these types (or ``X | None``) get a flag


def _or_none(kind: type):
    """A flag parser for an ``X | None`` field: "none" gives None, anything else ``kind(text)``."""
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse


def _optional(hint) -> bool:
    """Whether a field's annotation is a union (``float | None``)."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _flag_type(hint) -> type | None:
    """The scalar type behind a field's annotation (``int | None`` -> int); None when it is not one."""
    if _optional(hint):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else None
    return hint if hint in CLI_TYPES else None


def add_recipe_args(parser: argparse.ArgumentParser, recipe: type, defaults=None) -> None:
    """One flag per field of the ``recipe`` dataclass: ``--batch-size`` for ``batch_size``, its type and default
    (the class's, or those of the instance ``defaults``), the help text from ``field(metadata={"help": ...})``. A
    ``bool`` field that defaults to False becomes a switch; fields of other types (dicts, tuples) stay in the
    recipe without a flag."""
    hints = typing.get_type_hints(recipe)
    for f in dataclasses.fields(recipe):
        kind = _flag_type(hints[f.name])
        flag, help_ = "--" + f.name.replace("_", "-"), f.metadata.get("help", "")
        default = (getattr(defaults, f.name) if defaults is not None else
                   f.default if f.default is not dataclasses.MISSING else f.default_factory())
        if kind is bool:
            parser.add_argument(flag, dest=f.name, default=default, help=help_,
                                action="store_true" if default is False else argparse.BooleanOptionalAction)
        elif kind is not None:
            shown = "" if default is None else " (default: %(default)s)"
            parse = _or_none(kind) if _optional(hints[f.name]) else kind
            parser.add_argument(flag, dest=f.name, type=parse, default=default, help=help_ + shown)


def fashion_parser(model: str, description: str | None, recipe: type,
                   out_help: str = "folder to write to (default: weights/)") -> argparse.ArgumentParser:
    """``python -m core.train MODEL``'s parser for a Fashion-MNIST model: the recipe's flags, then --limit, --out
    and --data-dir."""
    parser = argparse.ArgumentParser(prog=f"python -m core.train {model}", description=description)
    add_recipe_args(parser, recipe)
    parser.add_argument("--limit", type=int, help="train on only this many images (smoke runs)")
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument("--data-dir", help="Fashion-MNIST folder (default: see core.data)")
    return parser


def recipe_from_args(args: argparse.Namespace, recipe: type):
    """The ``recipe`` instance the parsed flags describe (fields without a flag keep their defaults)."""
    return recipe(**{f.name: getattr(args, f.name) for f in dataclasses.fields(recipe) if hasattr(args, f.name)})


VALIDATION_SIZE = 6000  # Fashion-MNIST training images held out for early stopping


def train_validation_split(x: np.ndarray, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The last 6,000 images (a tenth of a small folder) for validation; ``limit`` cuts both for smoke runs."""
    n_val = min(VALIDATION_SIZE, len(x) // 10)
    x_train, x_val = x[:-n_val], x[-n_val:]
    if limit:
        x_train, x_val = x_train[:limit], x_val[: max(limit // 5, 32)]
    return x_train, x_val


class Stopwatch:
    """Wall-clock and CPU seconds (this process, all its threads) since creation."""

    def __init__(self) -> None:
        self.start, self.cpu_start = time.perf_counter(), time.process_time()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 1)

    @property
    def cpu_seconds(self) -> float:
        return round(time.process_time() - self.cpu_start, 1)


def save_with_card(model: keras.Model, path: Path, card: dict, recipe=None) -> dict:
    """Save ``model`` to ``path`` (.keras) and its card beside it, with checksum, environment and the training
    ``recipe`` (a dataclass) as fields under "recipe": ``Recipe(**card["recipe"])`` rebuilds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # An uncompiled twin sharing the layers: the file holds the weights for inference, not Adam's state.
    keras.Model(model.inputs, model.outputs, name=model.name).save(path)
    card = {
        "model": path.stem,
        "file": path.name,
        "sha256": sha256(path),
        "architecture": model.name,
        "parameters": int(model.count_params()),
        **({"recipe": dataclasses.asdict(recipe)} if recipe is not None else {}),
        **card,
        **environment(),
    }
    write_card(path.with_suffix(".json"), card)
    return card


def epochs_run(history: keras.callbacks.History) -> int:
    """How many epochs a fit actually ran (early stopping may end it sooner)."""
    return len(history.history.get("loss", []))
