"""The hostile corpus through every upload path: Denoise page, Clean documents page, batch CLI.

Each bad file gets its own message naming it; good files in the same upload are still processed.
"""
from pathlib import PurePath

import pytest
from streamlit.testing.v1 import AppTest

from core.clean import main as clean_cli
from core.imageio import display_name
from core.limits import MAX_PAGES
from tests.conftest import ROOT
from tests.hostile_corpus import Accept, Reject, cases

pytestmark = pytest.mark.slow

CASES = cases()


def offered(at: AppTest) -> list:
    """The cases a browser lets through this page's uploader (it refuses other extensions itself)."""
    allowed = set(at.get("file_uploader")[0].allowed_type)
    kept = [c for c in CASES if PurePath(c.name).suffix.lower() in allowed]
    refused = {PurePath(c.name).suffix.lower() for c in CASES} - allowed
    assert refused <= {".svg", ".heic", ".pdf"}, refused  # vector, HEIC; PDF only where pages are documents
    return kept


def test_clean_documents_page_reports_each_bad_file_and_cleans_the_rest():
    at = AppTest.from_file(str(ROOT / "pages" / "clean_documents.py"), default_timeout=300).run()
    # Distinct names, as a browser would send them (a folder part is dropped by display_name anyway).
    kept = offered(at)
    bad = [c for c in kept if isinstance(c.expect, Reject)]
    files = [(f"{i:02d}-{display_name(c.name)}", c.data, "application/octet-stream") for i, c in enumerate(kept)]
    at.file_uploader[0].set_value(files)
    at.select_slider[0].set_value(72)
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == len(bad)
    for i, case in enumerate(kept):
        named = [e for e in errors if f"`{i:02d}-{display_name(case.name)}`" in e]
        assert len(named) == (1 if case in bad else 0), case.name
    pages = sum(c.expect.pages for c in kept if isinstance(c.expect, Accept))
    assert len(at.selectbox[0].options) == pages
    assert at.get("download_button")[0].label == f"Download all {pages} page(s) as ZIP"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_denoise_page_survives_every_upload(case):
    at = AppTest.from_file(str(ROOT / "pages" / "denoise.py"), default_timeout=120).run()
    at.radio[0].set_value("Upload your own image").run()
    if case not in offered(at):
        pytest.skip(f"the browser refuses {case.name} before upload (not an offered file type)")
    at.get("file_uploader")[0].set_value((case.name, case.data, "application/octet-stream"))
    at.run()
    assert not at.exception
    if isinstance(case.expect, Reject):
        assert len(at.error) == 1 and f"`{display_name(case.name)}`" in at.error[0].value
    else:
        assert not at.error and len(at.metric) >= 4


def on_the_command_line(case):
    """What the CLI must do: an upload's, except that it has no per-file limits (any size, any page count)."""
    return Accept(pages=MAX_PAGES * 10) if case.name == "long.pdf" else case.expect


def test_batch_cli_skips_each_bad_file_and_writes_the_rest(tmp_path, capsys):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for i, case in enumerate(CASES):
        (inbox / f"{i:02d}-{display_name(case.name)}").write_bytes(case.data)
    named = sorted(str(p) for p in inbox.iterdir())  # as `python -m core.clean in/*` passes them
    assert clean_cli([*named, "--out", str(tmp_path / "out"), "--quiet", "--pdf-dpi", "72"]) == 1
    err = capsys.readouterr().err
    expected = [on_the_command_line(c) for c in CASES]
    assert err.count("skipped ") == sum(isinstance(e, Reject) for e in expected)
    assert len(list((tmp_path / "out").glob("*.png"))) == sum(e.pages for e in expected if isinstance(e, Accept))
