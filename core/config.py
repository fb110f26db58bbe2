"""Facts shared by the whole project: image size, class names, data and weight locations."""
from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = PROJECT_DIR / "weights"
SHARED_DATA_DIR = PROJECT_DIR.parent / "shared" / "data"

# Each model's shipped architecture; the others (the "seed" baselines) are trained and evaluated beside it.
SHIPPED_ARCHITECTURES = {"denoiser": "unet", "documents": "unet", "vae": "conv"}


def model_name(model: str, architecture: str | None = None, part: str | None = None) -> str:
    """File stem of a model's weights and card: the shipped architecture keeps the plain name, any other adds
    its own, a part (the VAE's encoder/decoder) comes last.

    ``model_name("denoiser")`` -> "denoiser", ``model_name("denoiser", "seed")`` -> "denoiser_seed",
    ``model_name("vae", "conv", "encoder")`` -> "vae_encoder", ``model_name("vae", "seed", "decoder")`` ->
    "vae_seed_decoder"."""
    shipped = architecture is None or architecture == SHIPPED_ARCHITECTURES[model]
    return "_".join([model, *([] if shipped else [architecture]), *([part] if part else [])])


# The document U-Net (core.models.documents) halves the resolution three times, so core.serving.documents
# pads its inputs and tiles to multiples of this (here, so that serving imports without TensorFlow).
DOCUMENT_DOWNSAMPLING = 8

IMAGE_SIZE = 28
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# The VAE's latent space is 2-D so the explorer can show and drag it directly.
LATENT_DIM = 2
VAE_ENCODER, VAE_DECODER = model_name("vae", part="encoder"), model_name("vae", part="decoder")
# The network that draws the map's items on every page (core.models.renderer), trained after the VAE.
VAE_RENDERER = "vae_renderer"
VAE_EMBEDDING_PATH = WEIGHTS_DIR / "vae_embedding.npz"
DOCUMENTS_FIRST_STAGE = "documents_base"  # the shipped document cleaner's first stage: core.training.documents
FASHION_CLASSIFIER = "fashion_classifier"  # the judge of generated clothing: core.models.classifier
VAE_PRIOR_PATH = WEIGHTS_DIR / "vae_prior.npz"  # where the items lie on the map: core.serving.vae_prior
# The renderer's export for the latent pad's browser decoder (components/latent_pad/frontend/decoder.js), made
# at training time next to its weights; checksums in its card under "browser_decoder". The server runs the
# other export, weights/vae_renderer.onnx, with onnxruntime.
VAE_BROWSER_DECODER_DIR = WEIGHTS_DIR / f"{VAE_RENDERER}_browser"
BROWSER_DECODER_STEM = "decoder"  # <dir>/decoder.json (layers) and <dir>/decoder.bin.gz (gzipped float32 weights)

# The home page's examples, computed from the shipped weights by ``python -m core.examples``.
EXAMPLES_PATH = WEIGHTS_DIR / "examples.npz"  # its card: weights/examples.json

# The 10,000 Fashion-MNIST test items ship with the app (the official t10k IDX files, MIT licence), so the
# pages browse items on any machine; the card beside the folder (fashion_mnist_test.json) holds checksums.
# Training reads the full set from the folders below (or Keras' download).
FASHION_MNIST_TEST_DIR = WEIGHTS_DIR / "fashion_mnist_test"
FASHION_MNIST_ENV = "FASHION_MNIST_DIR"
FASHION_MNIST_DIRS = (
    SHARED_DATA_DIR / "fashion-mnist",
    Path("/usr/share/datasets/fashion-mnist"),
)


def weight_path(name: str) -> Path:
    """Path of a shipped model file, e.g. ``weight_path("denoiser")`` -> weights/denoiser.keras."""
    return WEIGHTS_DIR / f"{name}.keras"


def card_path(name: str) -> Path:
    """Path of a shipped model's card, e.g. weights/denoiser.json."""
    return WEIGHTS_DIR / f"{name}.json"


def model_exists(name: str) -> bool:
    """Whether ``weights/<name>.keras`` and its card are present."""
    return weight_path(name).is_file() and card_path(name).is_file()
