"""What ships: server settings that protect users, and weights that match their model cards."""
import tomllib

import pytest

from core.card import read_card, sha256
from core.config import (DOCUMENTS_FIRST_STAGE, FASHION_CLASSIFIER, SHIPPED_ARCHITECTURES, VAE_RENDERER, WEIGHTS_DIR,
                         model_name)
from core.inference import load_model
from core.limits import MAX_UPLOAD_MB
from tests.conftest import ROOT

WEIGHTS = sorted(WEIGHTS_DIR.glob("*.keras"))


def test_streamlit_config_protects_users():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_served_app_does_not_poll_every_module_file_for_every_session():
    # Streamlit's default watcher re-reads each imported module's path per session: CPU that grows with visitors.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"


def test_denoiser_is_shipped():
    assert (WEIGHTS_DIR / "denoiser.keras").is_file() and (WEIGHTS_DIR / "denoiser.json").is_file()


@pytest.mark.parametrize("path", WEIGHTS, ids=[p.name for p in WEIGHTS])
def test_every_weights_file_matches_its_card_and_loads_safely(path):
    card = read_card(path.with_suffix(".json"))
    assert card["sha256"] == sha256(path)
    assert card["training"]["wall_time_s"] > 0
    assert load_model(path.stem, path) is not None  # safe_mode=True, checksum verified


def test_every_weights_file_is_named_by_the_one_rule():
    """Each model's architectures (core.models.<model>.ARCHITECTURES) ship under core.config.model_name."""
    import importlib

    expected = set()
    for model, shipped in SHIPPED_ARCHITECTURES.items():
        architectures = importlib.import_module(f"core.models.{model}").ARCHITECTURES
        assert shipped in architectures
        parts = ("encoder", "decoder") if model == "vae" else (None,)
        expected |= {model_name(model, arch, part) for arch in architectures for part in parts}
    expected |= {VAE_RENDERER, FASHION_CLASSIFIER}  # the VAE's second decoder and the judge of its samples
    expected |= {DOCUMENTS_FIRST_STAGE}  # what the shipped document cleaner was fine-tuned from
    assert {p.stem for p in WEIGHTS} == expected
    assert {model_name("denoiser"), model_name("denoiser", "seed"), model_name("vae", "seed", "decoder")} == {
        "denoiser", "denoiser_seed", "vae_seed_decoder"}


def test_weights_are_small():
    # 46 MB today, most of it the VAE's decoder and its renderer three times (Keras, ONNX, browser: 7.3-7.9 MB each)
    # and the Fashion-MNIST test set (4.4 MB); the encoder's hidden layer is factorised (core.models.vae: 13 -> 3.9 MB).
    files = [p for p in WEIGHTS_DIR.rglob("*") if p.is_file()]
    assert [p.name for p in files if p.stat().st_size >= 8 * 2**20] == []
    assert sum(p.stat().st_size for p in files) < 48 * 2**20


def test_every_cleaner_card_says_how_its_training_pages_were_normalised():
    """A cleaner sees its page's normalisation: a card trained under other settings than today's names each one."""
    from core.documents.normalize import settings

    cards = [read_card(p) for p in sorted(WEIGHTS_DIR.rglob("documents*.json"))]
    assert len(cards) >= 3
    for card in cards:
        trained = card["training"]["normalised_with"]
        assert set(trained) == set(settings())
        changed = [k for k, v in trained.items() if settings()[k] != v]
        note = card["training"].get("normalisation_changed", "")
        assert all(f"{k} {trained[k]:g}" in note and f"{k} {settings()[k]:g}" in note for k in changed)
        assert bool(note) == bool(changed)
