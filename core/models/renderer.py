"""The renderer: a second decoder for the VAE's 2-D map that draws sharp clothing instead of the VAE's mean.

The map stays the VAE's: the renderer G takes the same z (drawn from the frozen encoder's q(z|x)) and is trained
like pix2pix, conditioned on z: a critic D(x, z) learns to tell a real item x from G(z) at the point z came from
(and, given the item's class y, whether x looks like a y: a projection critic, Miyato & Koyama 2018), and G minimises

    L_G = E[softplus(−D(G(z), z))] + λ · E[|x − G(z)|]   (non-saturating GAN loss + L1 to the item itself),
    L_D = E[softplus(−D(x, z))] + E[softplus(D(G(z), z))].

G is a copy of the VAE decoder (architecture and weights) at the start so the browser
and ONNX exports run it unchanged and training only has to sharpen what the decoder already draws.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from core.config import IMAGE_SHAPE, LATENT_DIM
from core.models.vae import Sampling


def critic(classes: int = 0) -> keras.Model:
    """D(x, z[, y]): two strided convs over the item, the point z through a Dense layer, joined -> one logit; with
    ``classes``, plus the projection ⟨embed(y), h⟩ of the item's label y on the joined features h."""
    image, z = keras.Input(IMAGE_SHAPE), keras.Input((LATENT_DIM,))
    x = layers.Conv2D(64, 4, strides=2, padding="same")(image)  # 14
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(128, 4, strides=2, padding="same")(x)  # 7
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    c = layers.Dense(128)(z)
    c = layers.LeakyReLU(0.2)(c)
    h = layers.Dense(256)(layers.Concatenate()([x, c]))
    h = layers.LeakyReLU(0.2)(h)
    logit = layers.Dense(1)(h)
    if not classes:
        return keras.Model([image, z], logit, name="renderer_critic")
    label = keras.Input((), dtype="int32")
    projection = layers.Dot(axes=1)([layers.Embedding(classes, h.shape[-1])(label), h])
    return keras.Model([image, z, label], layers.Add()([logit, projection]), name="renderer_critic")


def critic_loss(real_logits, fake_logits):
    """E[softplus(−D(x, z))] + E[softplus(D(G(z), z))]."""
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss(fake_logits, x, rendered, l1_weight: float):
    """(L_G, its adversarial term, its L1 term): E[softplus(−D(G(z), z))] + λ · E|x − G(z)|."""
    adversarial = ops.mean(ops.softplus(-fake_logits))
    l1 = ops.mean(ops.abs(x - rendered))
    return adversarial + l1_weight * l1, adversarial, l1


@keras.saving.register_keras_serializable(package="core")
class RendererGAN(keras.Model):
    """Generator + critic trained in alternation on (x, μ, log σ²) of the frozen VAE encoder, plus the item's label
    y when the critic takes one."""

    def __init__(self, generator: keras.Model, critic_model: keras.Model, l1_weight: float = 300.0,
                 seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.generator, self.critic = generator, critic_model
        self.l1_weight = l1_weight
        self.sampling = Sampling(seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("critic", "generator", "adversarial", "l1")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, generator_optimizer, critic_optimizer, **kwargs) -> None:
        super().compile(**kwargs)
        self.generator_optimizer, self.critic_optimizer = generator_optimizer, critic_optimizer

    def call(self, z, training: bool = False):
        return self.generator(z, training=training)

    def train_step(self, data):
        import tensorflow as tf  # the training step is written for the TensorFlow backend

        x, z_mean, z_log_var, *label = data
        z = self.sampling([z_mean, z_log_var])
        with tf.GradientTape() as tape:
            d_loss = critic_loss(self.critic([x, z, *label], training=True),
                                 self.critic([self.generator(z, training=True), z, *label], training=True))
        grads = tape.gradient(d_loss, self.critic.trainable_weights)
        self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_weights))
        with tf.GradientTape() as tape:
            rendered = self.generator(z, training=True)
            g_loss, adversarial, l1 = generator_loss(self.critic([rendered, z, *label], training=True), x, rendered,
                                                     self.l1_weight)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        for tracker, value in zip(self.trackers.values(), (d_loss, g_loss, adversarial, l1)):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
