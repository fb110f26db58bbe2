"""Autoencoder Studio's library: data, noise, models, training, inference and metrics (no UI)."""
# Importing the model modules registers their custom Keras objects, so shipped
# ``.keras`` files load with ``safe_mode=True`` after ``import core``.
from core import models  # noqa: F401
