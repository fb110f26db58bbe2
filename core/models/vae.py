"""Fashion-MNIST variational autoencoders with a 2-D latent space: seed baseline and the shipped model.

Encoder: x -> (μ, log σ²); the Sampling layer draws z = μ + exp(½ log σ²)·ε, ε ~ N(0, I);
decoder: z -> pixel probabilities. Loss per image (nats) = BCE summed over the 784 pixels
+ KL(q(z|x) ‖ N(0, I)) summed over the latent; a batch's loss is the mean over its images.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from core.config import IMAGE_SHAPE, LATENT_DIM


@keras.saving.register_keras_serializable(package="core")
class Sampling(layers.Layer):
    """z = μ + exp(½ log σ²)·ε with ε ~ N(0, I): the reparameterisation trick as a layer."""

    def __init__(self, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def reconstruction_loss(x, probabilities):
    """Binary cross-entropy summed over the pixels of each image: shape (N,)."""
    bce = ops.binary_crossentropy(x, probabilities)  # elementwise, probabilities clipped to [ε, 1 - ε]
    return ops.sum(ops.reshape(bce, (ops.shape(x)[0], -1)), axis=1)


def kl_divergence(z_mean, z_log_var):
    """KL(N(μ, σ²) ‖ N(0, I)) summed over the latent: -½ Σ (1 + log σ² - μ² - σ²), shape (N,)."""
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)


def negative_elbo(x, probabilities, z_mean, z_log_var):
    """Batch means of (−ELBO, reconstruction, KL), all in nats per image."""
    reconstruction = ops.mean(reconstruction_loss(x, probabilities))
    kl = ops.mean(kl_divergence(z_mean, z_log_var))
    return reconstruction + kl, reconstruction, kl


@keras.saving.register_keras_serializable(package="core")
class VAE(keras.Model):
    """Encoder + Sampling + decoder, trained on −ELBO (Keras-examples style train/test steps)."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.sampling = Sampling(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, x, training: bool = False):
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(self.sampling([z_mean, z_log_var]), training=training), z_mean, z_log_var

    def _update(self, losses) -> dict:
        for tracker, value in zip(self.trackers.values(), losses):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf  # the training step is written for the TensorFlow backend

        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            probabilities, z_mean, z_log_var = self(x, training=True)
            losses = negative_elbo(x, probabilities, z_mean, z_log_var)
        gradients = tape.gradient(losses[0], self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._update(losses)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        probabilities, z_mean, z_log_var = self(x, training=False)
        return self._update(negative_elbo(x, probabilities, z_mean, z_log_var))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "seed": self.sampling.seed,
        }

    @classmethod
    def from_config(cls, config: dict):
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def _encoder_head(inputs, features, name: str) -> keras.Model:
    z_mean = layers.Dense(LATENT_DIM, name="z_mean")(features)
    z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(features)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def seed_encoder() -> keras.Model:
    """The seed: Conv 32 -> Conv 64 stride 2 -> Conv 64 -> Conv 64 -> Dense 32 -> μ, log σ²."""
    inputs = keras.Input(IMAGE_SHAPE)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)  # 14
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Dense(32, activation="relu")(layers.Flatten()(x))
    return _encoder_head(inputs, x, "seed_vae_encoder")


def seed_decoder() -> keras.Model:
    """The seed: Dense -> reshape 14×14×64 -> Conv2DTranspose 32 stride 2 -> Conv 1 sigmoid."""
    inputs = keras.Input((LATENT_DIM,))
    x = layers.Dense(14 * 14 * 64, activation="relu")(inputs)
    x = layers.Reshape((14, 14, 64))(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)  # 28
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="seed_vae_decoder")


def conv_encoder(hidden: int = 512, rank: int | None = None) -> keras.Model:
    """Shipped: two stride-2 convs (28 -> 14 -> 7), a 128-channel conv at 7×7, a hidden Dense layer, then μ, log σ².

    With ``rank`` the hidden layer's 6,272 × ``hidden`` kernel is a product of two of that rank (a linear
    Dense without bias, then the hidden one): the shape ``factorize_encoder`` gives a trained encoder."""
    inputs = keras.Input(IMAGE_SHAPE)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)  # 14
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)  # 7
    x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    if rank:
        x = layers.Dense(rank, use_bias=False, name="hidden_factor")(x)
    x = layers.Dense(hidden, activation="relu", name="hidden")(x)
    return _encoder_head(inputs, x, "vae_encoder")


def factorize_encoder(encoder: keras.Model, rank: int) -> keras.Model:
    """A trained ``conv_encoder`` with its hidden kernel W replaced by its best rank-``rank`` approximation
    U_r · (S_r V_rᵀ) (truncated SVD, Eckart–Young); every other weight copied."""
    dense = [layer for layer in encoder.layers if isinstance(layer, layers.Dense)]
    hidden, heads = dense[0], dense[1:]
    kernel, bias = hidden.get_weights()
    factored = conv_encoder(hidden=kernel.shape[1], rank=rank)
    convs = [layer for layer in factored.layers if isinstance(layer, layers.Conv2D)]
    for new, old in zip(convs, [layer for layer in encoder.layers if isinstance(layer, layers.Conv2D)], strict=True):
        new.set_weights(old.get_weights())
    u, s, vt = np.linalg.svd(kernel.astype(np.float64), full_matrices=False)
    factored.get_layer("hidden_factor").set_weights([u[:, :rank].astype(np.float32)])
    factored.get_layer("hidden").set_weights([(s[:rank, None] * vt[:rank]).astype(np.float32), bias])
    for head in heads:
        factored.get_layer(head.name).set_weights(head.get_weights())
    return factored


def conv_decoder(hidden: int = 512) -> keras.Model:
    """Shipped: two hidden Dense layers (a non-linear map out of 2-D), 7×7×64, then at 14 and at 28 a transposed
    conv followed by a conv."""
    inputs = keras.Input((LATENT_DIM,))
    x = layers.Dense(hidden, activation="relu")(inputs)
    x = layers.Dense(hidden, activation="relu")(x)
    x = layers.Dense(7 * 7 * 64, activation="relu")(x)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(x)  # 14
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)  # 28
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="vae_decoder")


ARCHITECTURES = {"conv": (conv_encoder, conv_decoder), "seed": (seed_encoder, seed_decoder)}


def build_vae(architecture: str = "conv", seed: int | None = None) -> VAE:
    """A fresh, uncompiled VAE of the named architecture."""
    make_encoder, make_decoder = ARCHITECTURES[architecture]
    return VAE(make_encoder(), make_decoder(), seed=seed, name=f"{architecture}_vae")
