"""The numbers in README.md and docs/*.md are the model cards' (``python -m core.docs`` rewrites them)."""
from __future__ import annotations

import json
import shutil

import pytest

import core.config
from core.card import read_card
from core.config import WEIGHTS_DIR
from core.docs import BLOCK, BLOCKS, DOCS, render, stale


def test_generated_blocks_equal_the_cards():
    assert stale() == [], "docs are stale: run `python -m core.docs`"


def test_each_renderer_fills_exactly_one_block():
    names = [m[2] for path in DOCS for m in BLOCK.finditer(path.read_text())]
    assert sorted(names) == sorted(BLOCKS)


def test_render_rewrites_only_inside_the_markers():
    text = "before\n<!-- generated: vae -->\nold numbers\n<!-- end generated -->\nafter\n"
    out = render(text)
    assert out.startswith("before\n<!-- generated: vae -->\n| model |")
    assert out.endswith("<!-- end generated -->\nafter\n") and "old numbers" not in out
    assert render(out) == out


@pytest.mark.parametrize("block, card_file, change", [
    ("headline", "denoiser.json", lambda c: c["test_metrics"]["s&p 0.1"]["model"].update(psnr_db=30.01)),
    ("denoiser", "denoiser_seed.json", lambda c: c["test_metrics"]["gaussian 0.2"]["model"].update(ssim=0.5)),
    ("documents", "documents.json", lambda c: c["evaluation"]["held_out_real"]["rmse"].update({"shipped model": 0.02})),
    ("vae", "vae_seed_decoder.json", lambda c: c["test_neg_elbo_nats"].update(neg_elbo=250.0)),
])
def test_a_changed_card_changes_its_block(monkeypatch, tmp_path, block, card_file, change):
    for path in WEIGHTS_DIR.glob("*.json"):
        shutil.copy(path, tmp_path)
    before = BLOCKS[block]()
    card = read_card(tmp_path / card_file)
    change(card)
    (tmp_path / card_file).write_text(json.dumps(card))
    monkeypatch.setattr(core.config, "WEIGHTS_DIR", tmp_path)
    assert BLOCKS[block]() != before
