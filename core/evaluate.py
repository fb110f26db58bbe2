"""Command line: ``python -m core.evaluate {denoiser,vae,documents} [options]``."""
from __future__ import annotations

import importlib
import sys

MODELS = ("denoiser", "vae", "documents")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in MODELS:
        sys.exit(f"usage: python -m core.evaluate {{{','.join(MODELS)}}} [--help | options]")
    importlib.import_module(f"core.evaluation.{argv[0]}").main(argv[1:])


if __name__ == "__main__":
    main()
