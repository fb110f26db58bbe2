"""The VAE as everything runs it: its latent space (embedding file, the decoder's exports, fast decoding,
prior samples, lines and grids).

The Latent explorer and its pad, the home page's strip, training (which writes the embedding and the
exports) and ``bench/latent.py`` all call this module (``core/serving/<model>.py``, beside ``models/``,
``training/`` and ``evaluation/``).

The network that draws (the renderer, core.models.renderer) is exported at training time twice, beside its
weights, each checked against Keras then and against the card's checksums when read: to ONNX
(``weights/vae_renderer.onnx``), which the server runs with onnxruntime, and to the latent pad's browser format
(``weights/vae_renderer_browser/``), which ``components/latent_pad/frontend/decoder.js`` runs. Importing this
module loads no TensorFlow. Pictures (uint8, enlargement, mosaics, PNG) are core.render's job. Why two exports:
docs/vae.md."""
from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.card import read_card, sha256
from core.config import BROWSER_DECODER_STEM, CLASS_NAMES, LATENT_DIM, VAE_ENCODER
from core.garment import prepare_garment  # noqa: F401  (an upload as the encoder's input: pages, tests, benchmarks)

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


# The ops and activations decoder.js runs (components/latent_pad/frontend/decoder.js lists the same; a test
# checks both lists agree). A decoder with any other layer fails its export at training time.
BROWSER_OPS = ("dense", "conv_same", "conv_transpose_same", "reshape")
BROWSER_ACTIVATIONS = ("linear", "relu", "sigmoid")
BROWSER_FORMAT = "latent-pad-decoder/1"


@dataclass(frozen=True)
class Step:
    """One layer of the browser export: ``op`` is one of BROWSER_OPS."""

    op: str
    weights: tuple[np.ndarray, ...] = ()
    activation: str = "linear"
    stride: int = 1
    shape: tuple[int, ...] = ()


def decoder_plan(model: keras.Model) -> list[Step]:
    """The decoder's layers as BROWSER_OPS steps (float32 weights). LatentError naming the first layer that
    decoder.js cannot run."""
    steps = []
    for layer in model.layers:
        kind, config = type(layer).__name__, layer.get_config()
        weights = tuple(np.asarray(w, np.float32) for w in layer.get_weights())
        if kind == "InputLayer":
            continue
        if kind == "Reshape":
            steps.append(Step("reshape", shape=tuple(config["target_shape"])))
            continue
        same = config.get("padding") == "same" and tuple(config.get("dilation_rate", (1, 1))) == (1, 1)
        fits = config.get("use_bias", True) and config.get("activation") in BROWSER_ACTIVATIONS
        if fits and kind == "Dense":
            steps.append(Step("dense", weights, config["activation"]))
        elif fits and kind == "Conv2D" and same and tuple(config["strides"]) == (1, 1):
            steps.append(Step("conv_same", weights, config["activation"]))
        elif fits and kind == "Conv2DTranspose" and same and config["strides"][0] == config["strides"][1]:
            steps.append(Step("conv_transpose_same", weights, config["activation"], stride=config["strides"][0]))
        else:
            raise LatentError(
                f"the decoder's layer {layer.name} ({kind}, activation {config.get('activation')!r}) is not one "
                f"the latent pad's browser decoder runs ({', '.join(BROWSER_OPS)}; activations "
                f"{', '.join(BROWSER_ACTIVATIONS)}, with bias, 'same' padding): add it to decoder.js and "
                "core.serving.vae.BROWSER_OPS, or change the decoder")
    return steps


def browser_decoder(model: keras.Model) -> tuple[dict, bytes]:
    """The decoder for decoder.js: a JSON-able spec and its weights as little-endian float32.

    Each spec layer names its op, activation, stride/shape and the [offset, shape] of its kernel and bias
    (in floats) in the blob. LatentError when the decoder holds a layer decoder.js cannot run."""
    layers, blobs, offset = [], [], 0
    for step in decoder_plan(model):
        spec = {"op": step.op, "activation": step.activation, "stride": step.stride, "shape": list(step.shape),
                "weights": []}
        for w in step.weights:
            spec["weights"].append({"offset": offset, "shape": list(w.shape)})
            blobs.append(np.ascontiguousarray(w, dtype="<f4").tobytes())
            offset += w.size
        layers.append(spec)
    return {"format": BROWSER_FORMAT, "latent_dim": LATENT_DIM, "layers": layers}, b"".join(blobs)


def browser_decoder_files(folder: Path) -> tuple[Path, Path]:
    """Where a browser export lies: ``<folder>/decoder.json`` (spec) and ``<folder>/decoder.bin.gz`` (weights,
    gzipped once here: served as application/gzip, the app server does not compress them again on every
    request, which cost 0.5–1.5 s of a first visit on the busy 2-core machine; the browser inflates them)."""
    return folder / f"{BROWSER_DECODER_STEM}.json", folder / f"{BROWSER_DECODER_STEM}.bin.gz"


def export_browser_decoder(model: keras.Model, folder: Path, made_from: str) -> dict:
    """Write the decoder's browser export into ``folder``; return its card entry (file checksums and
    ``made_from``, the SHA-256 of the decoder's .keras file). LatentError (nothing written) when the decoder
    holds a layer decoder.js cannot run."""
    spec, blob = browser_decoder(model)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    contents = (json.dumps(spec).encode(), gzip.compress(blob, 9, mtime=0))
    for path, data in zip(browser_decoder_files(folder), contents):
        path.write_bytes(data)
        files[path.name] = hashlib.sha256(data).hexdigest()
    return {"folder": folder.name, "files": files, "made_from": made_from}


def read_browser_decoder(folder: Path, card: dict) -> str:
    """Check a browser export against its decoder's card; returns a short version tag (from the checksums)
    for its URL. LatentError, naming the file, when it is missing or does not match."""
    entry = card.get("browser_decoder") or {}
    if entry.get("made_from") != card.get("sha256"):
        raise LatentError(f"{folder.name} was not made from the shipped decoder: "
                          "re-create it with `python -m core.train renderer --export-only`")
    for path in browser_decoder_files(folder):
        if not path.is_file():
            raise LatentError(f"{path} is missing: re-create it with `python -m core.train renderer --export-only`")
        if sha256(path) != entry.get("files", {}).get(path.name):
            raise LatentError(f"{path} does not match its checksum in the decoder's card")
    return entry["files"][browser_decoder_files(folder)[1].name][:16]


def browser_dir(decoder_path: Path) -> Path:
    """A drawing network's browser export lies beside it: ``weights/vae_renderer_browser/``."""
    return Path(decoder_path).with_name(f"{Path(decoder_path).stem}_browser")


def onnx_path(decoder_path: Path) -> Path:
    """A drawing network's ONNX export lies beside it: ``weights/vae_renderer.onnx``."""
    return Path(decoder_path).with_suffix(".onnx")


def export_onnx(model: keras.Model, path: Path, made_from: str, check_points: int = 256) -> dict:
    """Export the decoder to ONNX (Keras' ``export(format="onnx")``, through tf2onnx) and check that
    onnxruntime gives what Keras gives on ``check_points`` random points; return its card entry. LatentError
    (the file removed) when they differ by more than 1e-5."""
    model(np.zeros((1, LATENT_DIM), np.float32))  # a model loaded from disk must be called once to export
    model.export(str(path), format="onnx", verbose=False)
    z = np.random.default_rng(0).normal(0, 3, (check_points, LATENT_DIM)).astype(np.float32)
    diff = float(np.max(np.abs(LatentDecoder(onnx=path.read_bytes())(z) - np.asarray(model(z))[..., 0])))
    if not diff <= 1e-5:
        path.unlink()
        raise LatentError(f"the ONNX export of the decoder differs from Keras by {diff:.2g}: not written")
    return {"file": path.name, "sha256": sha256(path), "made_from": made_from, "max_abs_diff_vs_keras": diff}


def read_onnx(path: Path, card: dict) -> bytes:
    """The ONNX export's bytes, checked against its decoder's card; LatentError naming the file otherwise."""
    entry = card.get("onnx") or {}
    if entry.get("made_from") != card.get("sha256"):
        raise LatentError(f"{path.name} was not made from the shipped decoder: "
                          "re-create it with `python -m core.train renderer --export-only`")
    if not path.is_file():
        raise LatentError(f"{path} is missing: re-create it with `python -m core.train renderer --export-only`")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise LatentError(f"{path} does not match its checksum in the decoder's card")
    return data


class LatentDecoder:
    """The shipped decoder for interactive use: z (N, 2) -> pixel probabilities (N, 28, 28).

    From the decoder's ONNX export, run by onnxruntime on one thread (no TensorFlow: a point takes about a
    millisecond even on a busy machine, where waking TensorFlow's thread pools can cost tens), or from the
    Keras model through one traced tf.function."""

    def __init__(self, model: keras.Model | None = None, *, onnx: bytes | None = None) -> None:
        if (model is None) == (onnx is None):
            raise LatentError("a LatentDecoder needs a Keras decoder or an ONNX export, not both")
        self.model = model
        self._session = self._traced = None
        if onnx is not None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
            self._input = self._session.get_inputs()[0].name

    @property
    def backend(self) -> str:
        return "onnxruntime" if self._session else "tf.function"

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
        out = self._session.run(None, {self._input: z})[0] if self._session else self._keras_call(z)
        return np.asarray(out, np.float32)[..., 0]

    def one(self, z1: float, z2: float) -> np.ndarray:
        """The (28, 28) item decoded at (z1, z2)."""
        return self(np.array([[z1, z2]]))[0]


def fast_decoder(decoder_path: Path) -> tuple[LatentDecoder, str | None, str | None]:
    """The decoder at ``decoder_path`` for interactive use, and its browser export for the latent pad.

    Returns the decoder (from the ONNX export; only when that is unusable is the Keras model loaded, which
    loads TensorFlow: WeightsError when that fails too), the browser export's version tag (None when it is
    unusable) and why it is unusable (None when it is fine)."""
    card = read_card(decoder_path.with_suffix(".json"))
    try:
        decoder = LatentDecoder(onnx=read_onnx(onnx_path(decoder_path), card))
    except LatentError:
        from core.inference import load_model  # loads TensorFlow: only when the ONNX export is unusable

        decoder = LatentDecoder(load_model(decoder_path.stem, decoder_path))
    try:
        return decoder, read_browser_decoder(browser_dir(decoder_path), card), None
    except LatentError as e:
        return decoder, None, str(e)


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
