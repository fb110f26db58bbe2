"""The numbers in README.md and docs/*.md are the model cards' (``python -m core.docs`` rewrites them)."""
from __future__ import annotations

import copy

import pytest

import core.docs
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
def test_a_changed_card_changes_its_block(monkeypatch, block, card_file, change):
    real = core.docs.read_card

    def changed(path):
        card = copy.deepcopy(real(path))
        if path.name == card_file:
            change(card)
        return card

    before = BLOCKS[block]()
    monkeypatch.setattr(core.docs, "read_card", changed)
    assert BLOCKS[block]() != before
