"""A small Fashion-MNIST classifier: the feature space in which generated clothing is judged (FID, confidence).

Conv 32 → pool → Conv 64 → pool → Dense 128 ("features") → dropout → softmax over the 10 classes.
"""
from __future__ import annotations

import keras
from keras import layers

from core.config import CLASS_NAMES, IMAGE_SHAPE

FEATURES_LAYER = "features"


def classifier() -> keras.Model:
    """Images (N, 28, 28, 1) in [0, 1] -> class probabilities (N, 10)."""
    inputs = keras.Input(IMAGE_SHAPE)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)  # 14
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)  # 7
    x = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(layers.Flatten()(x))
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(len(CLASS_NAMES), activation="softmax")(x)
    return keras.Model(inputs, outputs, name="fashion_classifier")


def with_features(model: keras.Model) -> keras.Model:
    """The same network returning (features, probabilities)."""
    return keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output, model.outputs[0]])
