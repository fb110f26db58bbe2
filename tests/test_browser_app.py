"""The whole studio as a newcomer meets it, in a real Chromium: the home page, a fresh clone without
../shared, and a read-only install run by another user. Each fresh server is opened on a deep link first."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.card import read_card
from core.config import card_path
from tests.browser import (NAVIGATION, PAGE_PATHS, assert_app_page_without_errors, serve_app,
                           wait_until_painted)
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def clean_env(home: Path) -> dict:
    """This environment without a Fashion-MNIST folder of its own, with ``home`` as the user's home."""
    env = {k: v for k, v in os.environ.items() if k != "FASHION_MNIST_DIR"}
    return env | {"HOME": str(home)}


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temporary folder any user may enter (pytest's own are private to this one)."""
    folder = Path(tempfile.mkdtemp(prefix="studio-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:  # make the read-only copy removable again
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(folder)


def test_home_shows_each_model_at_work_with_its_card_number_and_a_link(page, app_url):
    page.goto(app_url)
    wait_until_painted(page, app_url, "")
    assert_app_page_without_errors(page)
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    denoiser = read_card(card_path("denoiser"))["test_metrics"]["s&p 0.1"]["model"]["psnr_db"]
    documents = read_card(card_path("documents"))["evaluation"]["held_out_synthetic"]["rmse_removed"]
    vae = read_card(card_path("vae_decoder"))["test_neg_elbo_nats"]["neg_elbo"]
    for headline in (f"{denoiser:.1f} dB", f"{100 * documents:.1f} %", f"{vae:.1f} nats"):
        assert headline in text
    for caption in ("restored by the autoencoder", "a stained scan", "cleaned", "latent space"):
        assert caption in text
    # Every picture is painted, and each model's page is one click away.
    assert page.evaluate("[...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
                         ".every(i => i.complete && i.naturalWidth > 0)")
    main.get_by_role("link", name="Noise an item and restore it").click()
    page.wait_for_url(f"{app_url}/denoise")
    page.locator('[data-testid="stMetricValue"]').nth(3).wait_for(timeout=120_000)
    assert_app_page_without_errors(page)


def test_a_fresh_clone_works_without_shared_data_and_writes_nothing(page, scratch):
    """``git clone``, then the README's ``streamlit run app.py`` (this venv's Python), no ../shared."""
    clone = scratch / "autoencoder-studio"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    assert not (clone.parent / "shared").exists()
    before = git("status", "--ignored", "--porcelain", cwd=clone)
    home = scratch / "home"
    home.mkdir()
    with serve_app(root=clone, env=clean_env(home), log=scratch / "server.log") as (url, _):
        for path in ("denoise", "", "latent_explorer", "clean_documents"):  # a deep link first
            wait_until_painted(page, url, path)
            assert_app_page_without_errors(page)
            if path == "denoise":  # a browsed item with its scores, before any upload
                assert "T-shirt/top #0" in page.locator('[data-testid="stMain"]').inner_text()
                assert [v for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()
                        if v.endswith(" dB")][:3]
    assert git("status", "--ignored", "--porcelain", cwd=clone) == before
    assert "Traceback" not in (scratch / "server.log").read_text()


def test_a_read_only_install_run_by_another_user_serves_every_page(page, scratch):
    """The working tree copied read-only (files 444, folders 555) and the app run as ``nobody`` (or as this
    user when it is not root) without a home: every page works, the sample pages are cleaned.

    As root, setpriv runs the server as nobody with one capability, reading any file (the Python here may
    live in root's home); writing stays governed by the permission bits, which allow it nowhere in the copy."""
    tree = scratch / "autoencoder-studio"
    files = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT).split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    for path in sorted(tree.rglob("*"), reverse=True) + [tree]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    listing = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    home = scratch / "home"  # never made: like nobody's /nonexistent, a service user has no home to write in
    wrapper: tuple[str, ...] = ()
    if os.geteuid() == 0:
        wrapper = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search")
    log = scratch / "server.log"
    temp = scratch / "tmp"  # the server's temporary folder, to see that it leaves nothing there
    temp.mkdir(mode=0o1777)
    temp.chmod(0o1777)
    with serve_app(root=tree, wrapper=wrapper, env=clean_env(home) | {"TMPDIR": str(temp)}, log=log) as (url, proc):
        if wrapper:
            assert Path(f"/proc/{proc.pid}/status").read_text().count("\t65534\t") >= 2  # Uid and Gid lines
        for path in ("latent_explorer", "", "denoise", "clean_documents"):  # a deep link first
            wait_until_painted(page, url, path)
            assert_app_page_without_errors(page)
        # The sample pages run augraphy's numba-compiled steps, whose disk cache has no writable home here.
        page.get_by_text("Try sample pages").click()
        page.get_by_role("button", name="Download all 3 page(s) as ZIP").wait_for(timeout=180_000)
        assert_app_page_without_errors(page)
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == listing
    assert not list(temp.glob("numba-cache-*"))  # numba's stand-in cache folder goes with the server
    # Keras imports matplotlib, which says once that it keeps its cache in a temporary folder instead.
    said = "\n".join(line for line in log.read_text().splitlines() if "matplotlib" not in line)
    assert "Traceback" not in said and "Permission denied" not in said, said[-3000:]


def test_every_page_path_is_in_the_navigation():
    app = (ROOT / "app.py").read_text()
    assert len(PAGE_PATHS) == len(NAVIGATION) == app.count("st.Page(")
    for path, title in zip(PAGE_PATHS[1:], NAVIGATION[1:]):
        assert f'"pages/{path}.py", title="{title}"' in app
