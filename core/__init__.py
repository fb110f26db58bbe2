"""Autoencoder Studio's library: data, noise, models, training, inference and metrics (no UI).

Importing ``core`` stays light (no TensorFlow), so the app's pages that need no model start fast.
Shipped ``.keras`` files load with ``safe_mode=True`` after ``import core.models``, which registers
the custom Keras objects (``core.inference.load_model`` does that itself)."""
