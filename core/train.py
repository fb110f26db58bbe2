"""Command line: ``python -m core.train {denoiser,vae,renderer,documents,classifier} [options]``."""
from __future__ import annotations

import importlib
import sys

MODELS = ("denoiser", "vae", "renderer", "documents", "classifier")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in MODELS:
        sys.exit(f"usage: python -m core.train {{{','.join(MODELS)}}} [--help | options]")
    importlib.import_module(f"core.training.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    main()
