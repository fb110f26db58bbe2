"""The latent explorer page under Streamlit's AppTest: renders, mirrors pad and number inputs, handles bad states."""
from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import config
from core.config import VAE_RENDERER
from core.inference import load_model
from core.render import to_uint8
from core.serving.vae import LatentDecoder, load_embedding
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "latent_explorer.py")


def pad_args(at: AppTest) -> dict:
    """The arguments the page passed to the latent pad component on its last run."""
    (pad,) = at.get("component_instance")
    return json.loads(pad.proto.json_args)


def pad_image(args: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(args["image"]), np.uint8).reshape(28, 28)


@pytest.fixture(scope="module")
def decoder() -> LatentDecoder:
    return LatentDecoder(load_model(VAE_RENDERER))


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_page_renders_the_pad_with_the_embedding_and_the_decoded_origin(app, decoder):
    args = pad_args(app)
    embedding = load_embedding(config.VAE_EMBEDDING_PATH)
    points = np.frombuffer(base64.b64decode(args["points"]), np.float32).reshape(-1, 2)
    np.testing.assert_array_equal(points, embedding.z_mean)
    assert list(np.frombuffer(base64.b64decode(args["labels"]), np.uint8)) == list(embedding.labels)
    assert args["class_names"] == list(config.CLASS_NAMES) and args["point"] == [0.0, 0.0]
    np.testing.assert_array_equal(pad_image(args), to_uint8(decoder.one(0.0, 0.0)))
    assert [s.value for s in app.subheader] == ["Start from your own garment", "Mood board (0 kept)", "Manifold grid",
                                                "Interpolate between two items"]
    assert len(app.get("image")) == 2  # grid and interpolation strip
    assert args["ring"] is None  # no garment yet
    assert dict(app.query_params) == {"z1": "0.000", "z2": "0.000"}  # the address bar links to the point


def test_number_inputs_move_the_point_and_redecode(app, decoder):
    before = pad_args(app)
    app.number_input(key="latent_z1").set_value(1.5)
    app.number_input(key="latent_z2").set_value(-2.25).run()
    after = pad_args(app)
    assert after["point"] == [1.5, -2.25] and after["point_version"] > before["point_version"]
    np.testing.assert_array_equal(pad_image(after), to_uint8(decoder.one(1.5, -2.25)))
    assert not np.array_equal(pad_image(after), pad_image(before))


@pytest.mark.slow
def test_a_pad_message_updates_the_number_inputs_and_answers_with_its_sequence_number(app, decoder):
    key = pad_args(app)["data_key"]
    app.session_state["latent_pad"] = {"x": 0.7, "y": 1.2, "seq": 41, "view": [-1, 1, -2, 2], "picked": 5,
                                       "has_data": key}
    app.run()
    args = pad_args(app)
    assert args["image_seq"] == 41 and args["points"] == ""  # the pad already holds the embedding
    assert app.number_input(key="latent_z1").value == 0.7 and app.number_input(key="latent_z2").value == 1.2
    np.testing.assert_array_equal(pad_image(args), to_uint8(decoder.one(0.7, 1.2)))
    assert app.session_state["latent_view"] == (-1.0, 1.0, -2.0, 2.0)
    assert "z₁ from -1.00 to 1.00" in " ".join(c.value for c in app.caption)
    # A pad that lost the embedding (reloaded) gets it again.
    app.session_state["latent_pad"] = {"x": 0.7, "y": 1.2, "seq": 42, "has_data": None}
    assert pad_args(app.run())["points"] != ""


@pytest.mark.slow
def test_the_pad_gets_the_shipped_decoder_and_no_server_image_once_it_decodes_by_itself(app, decoder):
    from core.serving.vae import browser_decoder

    args = pad_args(app)
    # The shipped browser export, served where it lies (weights/vae_renderer_browser/), equals the Keras decoder.
    spec, weights = browser_decoder(decoder.model)
    url, version = args["decoder"].split("?v=")
    assert url == "../components.latent_pad.decoder_files/decoder" and len(version) == 16
    assert gzip.decompress((config.VAE_BROWSER_DECODER_DIR / "decoder.bin.gz").read_bytes()) == weights
    assert json.loads((config.VAE_BROWSER_DECODER_DIR / "decoder.json").read_text()) == spec
    # The pad says it decodes in the browser: the page still mirrors the point but sends no image.
    app.session_state["latent_pad"] = {"x": -0.4, "y": 2.1, "seq": 7, "has_data": args["data_key"],
                                       "decodes": "browser"}
    args = pad_args(app.run())
    assert args["image"] == "" and args["image_seq"] == 7
    assert app.number_input(key="latent_z1").value == -0.4 and app.number_input(key="latent_z2").value == 2.1
    # A pad whose browser decoder did not load keeps getting the server's image.
    app.session_state["latent_pad"] = {"x": -0.4, "y": 2.0, "seq": 8, "has_data": args["data_key"],
                                       "decodes": "server"}
    np.testing.assert_array_equal(pad_image(pad_args(app.run())), to_uint8(decoder.one(-0.4, 2.0)))


@pytest.mark.slow
def test_random_sample_moves_the_point(app):
    before = pad_args(app)["point"]
    next(b for b in app.button if "Random sample" in b.label).click().run()
    after = pad_args(app)
    assert after["point"] != before and after["point"] == [app.session_state["latent_z1"],
                                                           app.session_state["latent_z2"]]


@pytest.mark.slow
def test_malformed_pad_messages_are_ignored_with_a_warning(app):
    app.session_state["latent_pad"] = {"x": None, "y": 1.0, "seq": 9}
    app.run()
    assert not app.exception and "does not understand" in app.warning[0].value
    app.session_state["latent_pad"] = {"x": 1.0, "y": 1.0, "seq": 10, "picked": 10**6}
    app.run()
    assert not app.exception and app.session_state["latent_picked"] is None


@pytest.mark.slow
def test_clicked_item_feeds_the_interpolation(app):
    embedding = load_embedding(config.VAE_EMBEDDING_PATH)
    item = int(embedding.class_indices(3)[17])  # the 18th dress
    app.session_state["latent_pad"] = {"x": 0.0, "y": 0.0, "seq": 3, "picked": item}
    app.run()
    app.button(key="latent_a_use").click().run()
    assert app.selectbox(key="latent_a_cls").value == 3 and app.number_input(key="latent_a_idx").value == 17
    assert f"Dress #{item}" in app.get("image")[1].proto.imgs[0].caption


def test_missing_embedding_explains_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "VAE_EMBEDDING_PATH", tmp_path / "vae_embedding.npz")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "python -m core.train vae" in at.error[0].value
    assert not at.get("component_instance")


def test_tampered_decoder_is_refused(monkeypatch, tmp_path):
    bad = tmp_path / "vae_renderer.keras"
    bad.write_bytes(b"not a model")
    (tmp_path / "vae_renderer.json").write_text(json.dumps({"sha256": "0" * 64}))
    monkeypatch.setattr(config, "weight_path", lambda name: tmp_path / f"{name}.keras")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    assert "does not match its model card" in at.error[0].value


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "tampered"])
def test_without_a_usable_browser_export_the_server_decodes_and_the_page_says_why(monkeypatch, tmp_path, decoder,
                                                                                   damage):
    for suffix in (".keras", ".json", ".onnx"):
        shutil.copy(config.weight_path(VAE_RENDERER).with_suffix(suffix), tmp_path / f"{VAE_RENDERER}{suffix}")
    if damage == "tampered":
        shutil.copytree(config.VAE_BROWSER_DECODER_DIR, tmp_path / config.VAE_BROWSER_DECODER_DIR.name)
        (tmp_path / config.VAE_BROWSER_DECODER_DIR.name / "decoder.bin.gz").write_bytes(b"\0" * 64)
    monkeypatch.setattr(config, "weight_path", lambda name: tmp_path / f"{name}.keras")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and not at.error
    message = {"missing": "decoder.json is missing", "tampered": "decoder.bin.gz does not match its checksum"}[damage]
    assert any(message in i.value for i in at.info)
    args = pad_args(at)
    assert args["decoder"] == ""
    np.testing.assert_array_equal(pad_image(args), to_uint8(decoder.one(0.0, 0.0)))


@pytest.mark.slow
def test_the_interpolation_ends_with_the_real_test_items(app):
    strip = app.get("image")[1].proto.imgs[0]
    assert strip.caption.endswith("first and last: the real test items")


@pytest.mark.slow
def test_the_page_runs_without_tensorflow():
    """The explorer decodes from the browser export through NumPy: opening it loads no TensorFlow."""
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            f"at = AppTest.from_file({PAGE!r}, default_timeout=120).run(); "
            "assert not at.exception and not at.error, (at.exception, at.error); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_pad_loads_only_files_it_ships_and_plotly_is_the_vendored_release():
    """Every script index.html loads lies in the component's folder (nothing from a CDN or another package),
    and the vendored Plotly.js bundle is the file whose SHA-256 vendor/README.md records."""
    import hashlib
    import re

    frontend = ROOT / "components" / "latent_pad" / "frontend"
    scripts = re.findall(r'<script src="([^"]+)"', (frontend / "index.html").read_text())
    assert "vendor/plotly-basic.min.js" in scripts and all((frontend / s).is_file() for s in scripts)
    recorded = re.search(r"SHA-256 of `plotly-basic.min.js`: `([0-9a-f]{64})`",
                         (frontend / "vendor" / "README.md").read_text()).group(1)
    assert hashlib.sha256((frontend / "vendor" / "plotly-basic.min.js").read_bytes()).hexdigest() == recorded


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader(key="latent_upload").set_value((name, data, mime))
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_uploaded_garment_is_ringed_with_its_reconstruction_variations_and_nearest_items(app):
    from core.data import load_test_set
    from tests.test_garment import png, product_shot

    trouser = load_test_set().images.reshape(-1, 28, 28)[2]  # test item 2 is a trouser
    upload(app, "my trousers.png", png(product_shot(trouser, at=(200, 80))))
    assert not app.error and not app.warning, ([e.value for e in app.error], [w.value for w in app.warning])
    args = pad_args(app)
    assert args["ring"] == args["point"] and args["ring"] is not None  # ringed, and the point moved there
    assert app.session_state["latent_source"] == "your garment"
    assert "The model can explain it" in app.success[0].value
    captions = [img.caption for image in app.get("image") for img in image.proto.imgs]
    assert any(c.startswith("Your upload: my trousers.png") for c in captions)
    assert any(c.startswith("Prepared as a 28×28 item") for c in captions)
    assert any(c.startswith("Its reconstruction") for c in captions)
    nearest = next(c for c in captions if "#" in c and "→" not in c)
    assert nearest.count("Trouser") >= 6, nearest  # its nearest real test items are trousers
    # Drag away: the ring stays where the garment lies.
    app.session_state["latent_pad"] = {"x": 2.0, "y": -1.0, "seq": 5, "has_data": args["data_key"]}
    moved = pad_args(app.run())
    assert moved["ring"] == args["ring"] and moved["point"] == [2.0, -1.0]
    # The top-left variation (lowest z1, highest z2 of the sheet) goes to the pad; the ring stays.
    app.number_input(key="latent_variation").set_value(1).run()
    app.button(key="show_variation").click().run()
    shown = pad_args(app)
    assert shown["ring"] == args["ring"] and app.session_state["latent_source"] == "variation"
    assert shown["point"][0] < args["ring"][0] and shown["point"][1] > args["ring"][1]


def test_a_page_of_text_gets_the_poor_fit_message(app):
    from tests.test_garment import png, text_page

    upload(app, "letter.png", png(text_page()))
    assert "doesn't look like the clothing the model knows" in app.warning[0].value
    assert pad_args(app)["ring"] is not None  # shown anyway


def test_a_bad_upload_is_named_and_the_page_keeps_working(app):
    upload(app, "holiday.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    assert "`holiday.jpg`" in app.error[0].value and pad_args(app)["ring"] is None
    assert [s.value for s in app.subheader][0] == "Start from your own garment"


@pytest.mark.slow
def test_class_sampling_lands_in_that_class(app):
    embedding = load_embedding(config.VAE_EMBEDDING_PATH)
    app.selectbox(key="latent_class").set_value(1).run()  # Trouser
    hits = 0
    for _ in range(10):
        app.button(key="sample_class").click().run()
        z = np.array(pad_args(app)["point"], np.float32)
        neighbours = embedding.labels[np.argsort(((embedding.z_mean - z) ** 2).sum(axis=1))[:10]]
        hits += np.mean(neighbours == 1) > 0.5
    assert hits >= 8 and app.session_state["latent_source"] == "random Trouser"


def test_kept_items_make_a_board_whose_files_round_trip(app, decoder):
    from core.moodboard import board_csv, contact_sheet, read_board_csv, read_contact_sheet

    app.number_input(key="latent_z1").set_value(1.5).run()
    app.button(key="keep_pad").click().run()
    app.number_input(key="latent_grid_row").set_value(2).run()
    app.button(key="keep_cell").click().run()
    board = app.session_state["latent_board"]
    assert [(b.z1, b.z2, b.source) for b in board][0] == (1.5, 0.0, "pad") and board[1].source == "grid cell"
    assert app.subheader[1].value == "Mood board (2 kept)"
    items, pictures = read_contact_sheet(contact_sheet(board, decoder(np.array([[b.z1, b.z2] for b in board]))))
    assert items == board and pictures.shape == (2, 28, 28)
    assert read_board_csv(board_csv(board)) == board
    app.button(key="board_show_1").click().run()  # the grid cell goes back to the pad
    assert pad_args(app)["point"] == [board[1].z1, board[1].z2] and app.session_state["latent_source"] == "grid cell"
    app.button(key="board_remove_0").click().run()
    assert [b.source for b in app.session_state["latent_board"]] == ["grid cell"]


def test_a_saved_board_reopens_and_a_bad_one_is_named(app):
    from core.moodboard import BoardItem, board_csv

    saved = [BoardItem(0.5, 0.25, "pad", "Bag"), BoardItem(-1.0, 2.0, "variation", "Dress")]
    app.file_uploader(key="latent_board_upload").set_value(("board.csv", board_csv(saved).encode(), "text/csv"))
    app.run()
    assert app.session_state["latent_board"] == saved and app.subheader[1].value == "Mood board (2 kept)"
    app.file_uploader(key="latent_board_upload").set_value(("notes.csv", b"hello,world\n", "text/csv"))
    app.run()
    assert "`notes.csv` is not a mood board" in app.error[0].value and app.session_state["latent_board"] == saved


def test_a_link_reopens_the_explorer_at_its_point():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["z1"], at.query_params["z2"] = "1.25", "-0.5"
    at.run()
    assert not at.exception and pad_args(at)["point"] == [1.25, -0.5]
    at.number_input(key="latent_z2").set_value(2.0).run()
    assert dict(at.query_params) == {"z1": "1.250", "z2": "2.000"}  # the address bar follows the point
    bad = AppTest.from_file(PAGE, default_timeout=120)
    bad.query_params["z1"], bad.query_params["z2"] = "north", "0"
    bad.run()
    assert not bad.exception and "The link could not be followed" in bad.warning[0].value
    assert pad_args(bad)["point"] == [0.0, 0.0]


def test_without_the_prior_random_items_come_from_n01_and_class_samples_are_off(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "VAE_PRIOR_PATH", tmp_path / "vae_prior.npz")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and "vae_prior.npz is missing" in at.warning[0].value
    assert at.button(key="sample_class").disabled
    next(b for b in at.button if "Random sample" in b.label).click().run()
    assert at.session_state["latent_source"] == "random sample from N(0, I)" and pad_args(at)["point"] != [0, 0]
