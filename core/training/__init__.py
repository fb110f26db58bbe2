"""One training module per model; ``python -m core.train NAME`` dispatches here."""
