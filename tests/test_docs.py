"""The numbers in README.md and docs/*.md are the model cards' (``python -m core.docs`` rewrites them)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

import core.config
from core.card import read_card
from core.config import PROJECT_DIR, WEIGHTS_DIR
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


def test_the_layout_table_names_real_paths_every_folder_and_every_core_module():
    readme = (PROJECT_DIR / "README.md").read_text()
    layout = readme[readme.index("## Where things live"):]
    paths = [p for cell in re.findall(r"^\| (.+?) \|", layout, re.M) for p in re.findall(r"`([^`]+)`", cell)]
    missing = [p for p in paths if not (PROJECT_DIR / p).exists()]
    assert paths and not missing, missing
    folders = {p.split("/")[0] for p in paths}
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True).stdout.split()
    assert {f.split("/")[0] for f in tracked if "/" in f} <= folders
    core_row = next(line for line in layout.splitlines() if line.startswith("| `core/` |"))
    modules = {p.stem for p in (PROJECT_DIR / "core").glob("*.py")} - {"__init__"}
    assert {m for m in modules if f"`{m}`" not in core_row and f"core.{m}" not in layout} == set()
