"""The home page (AppTest through app.py) and its examples: made from the shipped weights, shown without
TensorFlow, computed live when a model changed since."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.card import read_card, write_card
from core.config import EXAMPLES_PATH
from core.examples import MODELS, compute, shipped
from tests.conftest import ROOT

APP = str(ROOT / "app.py")


@pytest.mark.parametrize("name", MODELS)
def test_the_shipped_example_is_what_the_shipped_weights_compute_now(name):
    found = shipped(name)
    assert found is not None, (f"weights/examples.npz was made from other {name} weights than the shipped ones: "
                               "run `python -m core.examples`")
    pictures, numbers = found
    live_pictures, live_numbers = compute(name)
    assert pictures.keys() == live_pictures.keys()
    for key in pictures:
        assert np.abs(pictures[key].astype(int) - live_pictures[key]).max() <= 1, key
    assert numbers == live_numbers


@pytest.mark.slow
def test_home_runs_without_tensorflow_and_shows_every_model():
    """TensorFlow is imported only by app.py's background warm-up, after the home page has run."""
    code = f"""
import json, sys, threading
importers = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            importers.append(threading.current_thread().name)
sys.meta_path.insert(0, Spy())
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({APP!r}, default_timeout=120).run()
during = list(importers)
for thread in threading.enumerate():
    if thread.name == "warm-up":
        thread.join()
print(json.dumps({{"during": during, "after": importers, "exception": [e.value for e in at.exception],
                  "error": [e.value for e in at.error], "warning": [w.value for w in at.warning],
                  "images": len(at.get("image")), "links": [p.proto.page for p in at.get("page_link")]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(seen["during"]) <= {"warm-up"} and "warm-up" in seen["after"]
    assert not seen["exception"] and not seen["error"] and not seen["warning"]
    assert seen["images"] == 4  # denoised item, scan and cleaned crop, clothing strip
    assert seen["links"] == ["denoise", "clean_documents", "latent_explorer"]


@pytest.mark.slow
def test_an_example_made_from_other_weights_is_computed_on_the_page(monkeypatch, tmp_path):
    stale = tmp_path / EXAMPLES_PATH.name
    shutil.copy(EXAMPLES_PATH, stale)
    card = read_card(EXAMPLES_PATH.with_suffix(".json"))
    write_card(stale.with_suffix(".json"), {**card, "made_from": {**card["made_from"], "denoiser": "retrained"}})
    monkeypatch.setattr("core.examples.EXAMPLES_PATH", stale)
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception and not at.error and not at.warning
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    psnr = compute("denoiser")[1]["psnr_db"]
    assert any(f"restored by the autoencoder ({psnr['restored']:.1f} dB)" in c for c in captions)
    assert len(captions) == 4
    assert shipped("documents", stale) is not None and shipped("denoiser", stale) is None


def test_a_missing_examples_file_or_card_gives_no_example_but_no_error(tmp_path):
    assert shipped("denoiser", tmp_path / "examples.npz") is None
    shutil.copy(EXAMPLES_PATH, tmp_path / "examples.npz")
    assert shipped("denoiser", tmp_path / "examples.npz") is None  # no card beside it
