"""The VAE's latent space for the explorer: embedding file, fast decoding, prior samples, lines and grids.

Importing this module loads no TensorFlow: the shipped decoder also runs from its browser export (plain
layers + float32 weights) through NumPy. Pictures (uint8, enlargement, mosaics, PNG) are core.render's job."""
from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.card import read_card, sha256
from core.config import BROWSER_DECODER_STEM, CLASS_NAMES, LATENT_DIM, VAE_BROWSER_DECODER_DIR, VAE_ENCODER

if TYPE_CHECKING:
    import keras


class LatentError(ValueError):
    """The embedding file is missing, unreadable or does not fit the shipped encoder."""


@dataclass(frozen=True)
class Embedding:
    """μ (N, 2) of every test item, its label (N,), and the SHA-256 of the encoder that made it."""

    z_mean: np.ndarray
    labels: np.ndarray
    encoder_sha256: str

    def class_indices(self, label: int) -> np.ndarray:
        """Indices of the items of one class, in file order."""
        return np.flatnonzero(self.labels == label)


def encode_means(encoder: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """μ of float32 (N, 28, 28, 1) images, by direct encoder calls."""
    parts = [np.asarray(encoder(images[i : i + batch_size], training=False)[0])
             for i in range(0, len(images), batch_size)]
    return np.concatenate(parts).astype(np.float32)


def save_embedding(path: Path, encoder: keras.Model, images: np.ndarray, labels: np.ndarray,
                   encoder_sha256: str) -> Embedding:
    """Encode ``images`` and store μ, labels and the encoder's checksum as a compressed .npz."""
    embedding = Embedding(encode_means(encoder, images), np.asarray(labels, dtype=np.uint8), encoder_sha256)
    np.savez_compressed(path, z_mean=embedding.z_mean, labels=embedding.labels,
                        encoder_sha256=np.array(encoder_sha256))
    return embedding


def load_embedding(path: Path) -> Embedding:
    """Read and check an embedding file (against the SHA-256 in the encoder's card beside it, when that card
    names it); LatentError with what to do when it is unusable."""
    if not Path(path).is_file():
        raise LatentError(f"embedding file {Path(path).name} is missing: train the VAE with `python -m core.train vae`")
    recorded = read_card(Path(path).with_name(f"{VAE_ENCODER}.json")).get("embedding", {})
    if recorded.get("file") == Path(path).name and recorded.get("sha256") != sha256(path):
        raise LatentError(f"embedding file {Path(path).name} does not match the SHA-256 in {VAE_ENCODER}.json "
                          "(damaged or replaced); retrain with `python -m core.train vae`")
    try:
        with np.load(path, allow_pickle=False) as f:
            z_mean, labels, sha = f["z_mean"], f["labels"], str(f["encoder_sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise LatentError(f"embedding file {Path(path).name} cannot be read ({e}); retrain with "
                          "`python -m core.train vae`") from e
    if z_mean.ndim != 2 or z_mean.shape[1] != LATENT_DIM or len(labels) != len(z_mean):
        raise LatentError(f"embedding file {Path(path).name} has μ of shape {z_mean.shape} and {len(labels)} "
                          f"labels; expected (N, {LATENT_DIM}) and N labels")
    if not np.all(np.isfinite(z_mean)) or labels.size and labels.max() >= len(CLASS_NAMES):
        raise LatentError(f"embedding file {Path(path).name} holds non-finite μ or unknown labels")
    return Embedding(z_mean.astype(np.float32), labels.astype(np.int64), sha)


_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # = 1 / (1 + e^-x), without overflow
}


BLAS_BATCH = 8  # from this many items on, decode with BLAS products (a 12×12 grid: 0.9 s -> 0.4 s here)


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    # A few items (a drag step): einsum's own single-threaded loop, since BLAS would wake its thread pool,
    # which on a busy machine costs more than these small products take. Batches: one BLAS product.
    if len(x) < BLAS_BATCH:
        return np.einsum("...i,ij->...j", x, w)
    return (x.reshape(-1, x.shape[-1]) @ w).reshape(*x.shape[:-1], w.shape[1])


def _dense(weights):
    kernel, bias = weights
    return lambda x: _matmul(x, kernel) + bias


def _conv_same(weights):
    """Stride-1 'same' convolution as a sum of k×k matrix products, one per kernel tap over the shifted input
    (no patch matrix: for a 12×12 grid that would be 130 MB)."""
    kernel, bias = weights  # (kh, kw, in, out)
    kh, kw = kernel.shape[:2]

    def apply(x):
        n, h, w, _ = x.shape
        padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
        y = _matmul(padded[:, :h, :w], kernel[0, 0]) + bias
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    y += _matmul(padded[:, i : i + h, j : j + w], kernel[i, j])
        return y

    return apply


def _conv_transpose_same(weights, stride: int):
    """'same' transposed convolution: every input pixel scatters kernel × value onto a stride-spaced output."""
    kernel, bias = weights  # (kh, kw, out, in)
    kh, kw, out, _ = kernel.shape
    flat = kernel.transpose(3, 0, 1, 2).reshape(kernel.shape[3], -1)  # in -> (kh, kw, out)

    def apply(x):
        n, h, w, _ = x.shape
        taps = _matmul(x, flat).reshape(n, h, w, kh, kw, out)
        y = np.zeros((n, h * stride + kh, w * stride + kw, out), np.float32)
        for i in range(kh):
            for j in range(kw):
                y[:, i : i + h * stride : stride, j : j + w * stride : stride] += taps[:, :, :, i, j]
        return y[:, : h * stride, : w * stride] + bias

    return apply


@dataclass(frozen=True)
class Step:
    """One layer of a decoder plan: ``op`` is dense, conv_same, conv_transpose_same or reshape."""

    op: str
    weights: tuple[np.ndarray, ...] = ()
    activation: str = "linear"
    stride: int = 1
    shape: tuple[int, ...] = ()


def decoder_plan(model: keras.Model) -> list[Step] | None:
    """The decoder's layers as plain steps (float32 weights), or None when it holds a layer not covered here.

    The one walk over the layers that both the NumPy forward pass and the browser's decoder follow."""
    steps = []
    for layer in model.layers:
        kind, config = type(layer).__name__, layer.get_config()
        weights = tuple(np.asarray(w, np.float32) for w in layer.get_weights())
        if kind == "InputLayer":
            continue
        if kind == "Reshape":
            steps.append(Step("reshape", shape=tuple(config["target_shape"])))
            continue
        if not config.get("use_bias", True) or config.get("activation") not in _ACTIVATIONS:
            return None
        same = config.get("padding") == "same" and tuple(config.get("dilation_rate", (1, 1))) == (1, 1)
        if kind == "Dense":
            steps.append(Step("dense", weights, config["activation"]))
        elif kind == "Conv2D" and same and tuple(config["strides"]) == (1, 1):
            steps.append(Step("conv_same", weights, config["activation"]))
        elif kind == "Conv2DTranspose" and same and config["strides"][0] == config["strides"][1]:
            steps.append(Step("conv_transpose_same", weights, config["activation"], stride=config["strides"][0]))
        else:
            return None
    return steps


def numpy_forward(plan: list[Step]):
    """A decoder plan's forward pass in NumPy (same weights, same maths), run in the calling thread.

    Tests check it equals the Keras model the plan came from."""
    ops = []
    for step in plan:
        if step.op == "reshape":
            ops.append(lambda x, shape=step.shape: x.reshape((len(x),) + shape))
            continue
        op = {"dense": _dense, "conv_same": _conv_same,
              "conv_transpose_same": lambda w, s=step.stride: _conv_transpose_same(w, s)}[step.op](step.weights)
        activation = _ACTIVATIONS[step.activation]
        ops.append(lambda x, op=op, activation=activation: activation(op(x)))

    def forward(z: np.ndarray) -> np.ndarray:
        x = z
        for op in ops:
            x = op(x)
        return x

    return forward


def browser_decoder(model: keras.Model) -> tuple[dict, bytes] | None:
    """The decoder for a JavaScript forward pass: a JSON-able spec and its weights as little-endian float32.

    Each spec layer names its op, activation, stride/shape and the [offset, shape] of its kernel and bias
    (in floats) in the blob. None when ``decoder_plan`` does not cover the model."""
    plan = decoder_plan(model)
    if plan is None:
        return None
    layers, blobs, offset = [], [], 0
    for step in plan:
        spec = {"op": step.op, "activation": step.activation, "stride": step.stride, "shape": list(step.shape),
                "weights": []}
        for w in step.weights:
            spec["weights"].append({"offset": offset, "shape": list(w.shape)})
            blobs.append(np.ascontiguousarray(w, dtype="<f4").tobytes())
            offset += w.size
        layers.append(spec)
    return {"format": "latent-pad-decoder/1", "latent_dim": LATENT_DIM, "layers": layers}, b"".join(blobs)


def plan_from_browser(spec: dict, blob: bytes) -> list[Step]:
    """The plan back from a browser export (``browser_decoder``), so the server decodes without TensorFlow."""
    floats = np.frombuffer(blob, dtype="<f4")
    plan = []
    for layer in spec["layers"]:
        weights = tuple(floats[w["offset"] : w["offset"] + int(np.prod(w["shape"]))].reshape(w["shape"])
                        for w in layer["weights"])
        plan.append(Step(layer["op"], weights, layer["activation"], layer["stride"], tuple(layer["shape"])))
    return plan


def browser_decoder_files(folder: Path) -> tuple[Path, Path]:
    """Where a browser export lies: ``<folder>/decoder.json`` (spec) and ``<folder>/decoder.bin`` (weights)."""
    return folder / f"{BROWSER_DECODER_STEM}.json", folder / f"{BROWSER_DECODER_STEM}.bin"


def export_browser_decoder(model: keras.Model, folder: Path, made_from: str) -> dict | None:
    """Write the decoder's browser export into ``folder``; return its card entry (file checksums and
    ``made_from``, the SHA-256 of the decoder's .keras file), or None (nothing written) when
    ``decoder_plan`` does not cover the model."""
    export = browser_decoder(model)
    if export is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for path, data in zip(browser_decoder_files(folder), (json.dumps(export[0]).encode(), export[1])):
        path.write_bytes(data)
        files[path.name] = hashlib.sha256(data).hexdigest()
    return {"folder": folder.name, "files": files, "made_from": made_from}


def read_browser_decoder(folder: Path, card: dict) -> tuple[dict, bytes, str]:
    """Read a browser export checked against its decoder's card; returns spec, weights and a short version
    tag (from the checksums). LatentError, naming the file, when it is missing or does not match."""
    entry = card.get("browser_decoder") or {}
    if entry.get("made_from") != card.get("sha256"):
        raise LatentError(f"{folder.name} was not made from the shipped decoder: "
                          "re-create it with `python -m core.train vae`")
    data = []
    for path in browser_decoder_files(folder):
        if not path.is_file():
            raise LatentError(f"{path} is missing: re-create it with `python -m core.train vae`")
        data.append(path.read_bytes())
        if hashlib.sha256(data[-1]).hexdigest() != entry.get("files", {}).get(path.name):
            raise LatentError(f"{path} does not match its checksum in the decoder's card")
    try:
        spec = json.loads(data[0])
        plan_from_browser(spec, data[1])
    except (ValueError, KeyError, TypeError) as e:
        raise LatentError(f"{browser_decoder_files(folder)[0]} cannot be read ({e})") from e
    return spec, data[1], entry["files"][browser_decoder_files(folder)[1].name][:16]


class LatentDecoder:
    """The shipped decoder for interactive use: z (N, 2) -> pixel probabilities (N, 28, 28).

    It runs the decoder's weights through NumPy in the calling thread: a single point then takes about a
    millisecond even on a busy machine, where waking TensorFlow's thread pools can cost tens of
    milliseconds. Built from a Keras model, or from a plan alone (``plan_from_browser``: no TensorFlow at
    all). Models with layers ``decoder_plan`` does not cover use one traced tf.function."""

    def __init__(self, decoder: keras.Model | None = None, *, plan: list[Step] | None = None) -> None:
        self.model = decoder
        plan = plan if plan is not None else decoder_plan(decoder)
        self._numpy = numpy_forward(plan) if plan is not None else None
        self._traced = None
        if self._numpy is None and decoder is None:
            raise LatentError("a LatentDecoder needs a Keras decoder or a plan")

    @property
    def backend(self) -> str:
        return "numpy" if self._numpy else "tf.function"

    def _keras_call(self, z: np.ndarray) -> np.ndarray:
        if self._traced is None:
            import tensorflow as tf

            model = self.model
            self._traced = tf.function(lambda z: model(z, training=False),
                                       input_signature=[tf.TensorSpec((None, LATENT_DIM), tf.float32)])
        return self._traced(z).numpy()

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32).reshape(-1, LATENT_DIM)
        if not np.all(np.isfinite(z)):
            raise LatentError("latent coordinates must be finite numbers")
        out = self._numpy(z) if self._numpy else self._keras_call(z)
        return np.asarray(out, np.float32)[..., 0]

    def keras(self, z: np.ndarray) -> np.ndarray:
        """The same decode through the Keras model itself (the reference the fast path must equal)."""
        return self._keras_call(np.asarray(z, np.float32).reshape(-1, LATENT_DIM))[..., 0]

    def one(self, z1: float, z2: float) -> np.ndarray:
        """The (28, 28) item decoded at (z1, z2)."""
        return self(np.array([[z1, z2]]))[0]


def fast_decoder(decoder_path: Path) -> tuple[LatentDecoder, str | None, str | None]:
    """The decoder at ``decoder_path`` for interactive use, preferably from its browser export (NumPy, no
    TensorFlow). Returns the decoder, the export's version tag (None when it is unusable) and why it is
    unusable (None when used); only then is the Keras model loaded (WeightsError when that fails too)."""
    folder = decoder_path.with_name(VAE_BROWSER_DECODER_DIR.name)
    try:
        spec, blob, version = read_browser_decoder(folder, read_card(decoder_path.with_suffix(".json")))
        return LatentDecoder(plan=plan_from_browser(spec, blob)), version, None
    except LatentError as e:
        from core.inference import load_model  # loads TensorFlow: only when the browser export is unusable

        return LatentDecoder(load_model(decoder_path.stem, decoder_path)), None, str(e)


def class_walk(embedding: Embedding, classes: list[int], n: int) -> np.ndarray:
    """n points evenly spaced (by length) along the path through the classes' median μ, in order: (n, 2)."""
    stops = np.stack([np.median(embedding.z_mean[embedding.labels == c], axis=0) for c in classes])
    lengths = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(stops, axis=0), axis=1))])
    at = np.linspace(0.0, lengths[-1], n)
    return np.stack([np.interp(at, lengths, stops[:, k]) for k in range(LATENT_DIM)], axis=1).astype(np.float32)


def prior_samples(n: int, seed: int | None = None) -> np.ndarray:
    """n points z ~ N(0, I), shape (n, 2)."""
    return np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype(np.float32)


def interpolate(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points evenly spaced on the segment from z_a to z_b (both ends included)."""
    if steps < 2:
        raise LatentError("an interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1.0 - t) * np.asarray(z_a, np.float32) + t * np.asarray(z_b, np.float32)


def grid_rows(images: np.ndarray, n: int) -> list[np.ndarray]:
    """The n*n images of a grid_points decode as n rows (for core.render.mosaic)."""
    return [images[r * n : (r + 1) * n] for r in range(n)]


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> np.ndarray:
    """n×n grid centres over a view, row-major from the top-left (high z2 first, as on screen): (n*n, 2)."""
    if n < 1:
        raise LatentError("the grid needs at least 1 row")
    (x0, x1), (y0, y1) = sorted(x_range), sorted(y_range)
    if not (np.isfinite([x0, x1, y0, y1]).all() and x1 > x0 and y1 > y0):
        raise LatentError(f"the view {x_range} × {y_range} is empty or not finite")
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
