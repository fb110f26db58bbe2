"""Document cleaner core: page generator, degradation, seeded pairs, real-pair split, OCR scoring, training."""
from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from core.documents import pairs as P
from core.documents.degrade import AUGRAPHY_STEPS, degrade
from core.documents.ocr import cer, edit_distance, ocr
from core.documents.real import load_real_pairs, split_held_out
from core.documents.synth import DPI_RANGE, bundled_fonts, render_page
from core.inference import load_model
from core.training.documents import train


def test_rendered_pages_are_seeded_and_hold_their_text():
    a = render_page(np.random.default_rng(3), (500, 400))
    b = render_page(np.random.default_rng(3), (500, 400))
    c = render_page(np.random.default_rng(4), (500, 400))
    assert a.image.shape == (500, 400) and a.image.dtype == np.uint8
    assert np.array_equal(a.image, b.image) and a.text == b.text
    assert not np.array_equal(a.image, c.image)
    assert DPI_RANGE[0] <= a.dpi <= DPI_RANGE[1]
    assert (a.image < 128).mean() > 0.01 and (a.image == 255).mean() > 0.5  # ink on white paper
    assert len(a.text.split()) > 5


def test_tesseract_reads_the_text_the_generator_says_it_printed():
    page = render_page(np.random.default_rng(7), (700, 600), dpi=200, fonts=bundled_fonts())
    assert cer(ocr(page.image), page.text) < 0.1


def test_every_chosen_augraphy_step_runs_and_keeps_the_page_aligned():
    import augraphy

    clean = render_page(np.random.default_rng(0), (256, 256), dpi=150).image
    for _, name, kwargs in AUGRAPHY_STEPS:
        random.seed(0)
        np.random.seed(0)
        out = getattr(augraphy, name)(p=1, **kwargs)(clean.copy(), force=True)
        assert np.asarray(out).shape[:2] == clean.shape, name


def test_degradation_is_seeded_and_visible():
    clean = render_page(np.random.default_rng(1), (320, 288)).image
    a = degrade(clean, np.random.default_rng(5))
    b = degrade(clean, np.random.default_rng(5))
    assert a.shape == clean.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    rmse = [np.sqrt(np.mean((degrade(clean, np.random.default_rng(s)) / 255 - clean / 255) ** 2)) for s in range(4)]
    assert min(rmse) > 0.01


def test_held_out_pages_are_fixed_and_differ_from_training_pages():
    first = P.held_out_pairs(2)
    assert P.checksum(first) == P.checksum(P.held_out_pairs(2))
    assert first[0].noisy.shape == P.HELD_OUT_SIZE
    assert P.HELD_OUT_PAGES >= 60
    train_page = P.make_pair(P.TRAIN, 0, 0, 0, size=P.HELD_OUT_SIZE)
    assert not np.array_equal(train_page.clean, first[0].clean)


def test_edit_distance_matches_the_textbook_recurrence():
    def slow(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            prev, row[0] = row[:], i
            for j, cb in enumerate(b, 1):
                row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
        return row[-1]

    rng = random.Random(0)
    for _ in range(200):
        a = "".join(rng.choice("ab c") for _ in range(rng.randint(0, 10)))
        b = "".join(rng.choice("ab c") for _ in range(rng.randint(0, 10)))
        assert edit_distance(a, b) == slow(a, b)
    assert cer("the  cat\nsat", "the cat sat") == 0


def write_real_folder(root, groups: list[tuple[int, int]]) -> None:
    """Kaggle layout with one page per (text, background) pair: train/ (noisy) and train_cleaned/."""
    (root / "train").mkdir()
    (root / "train_cleaned").mkdir()
    for k, (t, bg) in enumerate(groups):
        clean = render_page(np.random.default_rng(100 + t), (320, 320), dpi=150, fonts=bundled_fonts()).image
        paper = np.random.default_rng(200 + bg).uniform(0.55, 0.95, (4, 4))
        paper = np.asarray(Image.fromarray(paper.astype(np.float32), "F").resize((320, 320), Image.BICUBIC))
        noisy = (clean / 255 * paper * 255).astype(np.uint8)
        Image.fromarray(noisy).save(root / "train" / f"{k}.png")
        Image.fromarray(clean).save(root / "train_cleaned" / f"{k}.png")


def test_real_pairs_hold_out_pages_sharing_neither_text_nor_background(tmp_path):
    # Pages 0-3 are chained by shared texts and backgrounds; pages 4-5 share only with each other.
    write_real_folder(tmp_path, [(0, 0), (0, 1), (1, 1), (1, 2), (5, 5), (5, 6)])
    pages = load_real_pairs(tmp_path)
    assert len(pages) == 6
    training, held = split_held_out(pages, fraction=0.2)
    assert sorted(p.name for p in held) == ["4.png", "5.png"]
    assert len(training) == 4
    assert load_real_pairs(tmp_path / "absent") == []


@pytest.mark.slow
def test_a_few_training_steps_on_synthetic_and_real_pairs(tmp_path):
    (tmp_path / "real").mkdir()
    write_real_folder(tmp_path / "real", [(0, 0), (0, 1), (1, 1), (5, 5)])
    card = train(epochs=2, architecture="unet", out=tmp_path / "out", steps=3, batch_size=4,
                 pages_per_epoch=2, monitor_pages=1, real_dir=tmp_path / "real", verbose=0)
    assert card["training"]["steps_run"] == 6 and card["training"]["epochs_run"] == 2
    assert np.isfinite(card["monitor_rmse"])
    assert card["data"]["real"]["train_pages"] == 3 and card["data"]["real"]["held_out_pages"] == 1
    model = load_model("documents", tmp_path / "out" / "documents.keras")  # safe_mode and checksum
    x = np.random.default_rng(0).random((1, 40, 56, 1)).astype(np.float32)
    assert model(x).shape == (1, 40, 56, 1)


@pytest.fixture(scope="module")
def shipped():
    return load_model("documents")


def test_shipped_model_cleans_held_out_pages_and_beats_the_baselines(shipped):
    from core.evaluation.documents import median_background, rmse, sauvola
    from core.clean import clean_array

    pages = P.held_out_pairs(6)
    clean = [p.clean / 255 for p in pages]
    noisy = [p.noisy.astype(np.float32) / 255 for p in pages]
    model = rmse([clean_array(shipped, x) for x in noisy], clean)
    assert model < rmse(noisy, clean) * 0.5
    assert model < rmse([sauvola(x) for x in noisy], clean)
    assert model < rmse([median_background(x) for x in noisy], clean)
