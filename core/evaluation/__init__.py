"""One evaluation module per model; ``python -m core.evaluate NAME`` dispatches here."""
