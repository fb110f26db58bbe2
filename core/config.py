"""Facts shared by the whole project: image size, class names, data and weight locations."""
from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = PROJECT_DIR / "weights"
SHARED_DATA_DIR = PROJECT_DIR.parent / "shared" / "data"

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
VAE_ENCODER, VAE_DECODER = "vae_encoder", "vae_decoder"
VAE_EMBEDDING_PATH = WEIGHTS_DIR / "vae_embedding.npz"

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
