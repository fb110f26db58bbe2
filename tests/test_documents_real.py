"""Real-page evaluation: the page-normalisation baseline and DIBCO scoring (the docs tables: tests/test_docs.py)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from core.documents.normalize import MIN_CONTRAST, normalize
from core.documents.real import BinaryPage, fold, historical_sets, load_dibco
from core.documents.synth import bundled_fonts, render_page
from core.evaluation.documents import binary_psnr, dibco_scores, f_measure, otsu, sauvola


def text_page(paper: float, ink: float, shading: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(scan in [0, 1], ink mask): a rendered page re-inked at ``ink`` on paper at ``paper``, optionally shaded."""
    clean = render_page(np.random.default_rng(seed), (480, 400), dpi=200, fonts=bundled_fonts()).image / 255
    scan = ink + (paper - ink) * clean
    if shading:
        yy, xx = np.mgrid[0:480, 0:400] / 480
        scan = scan * (1 - shading * (xx + yy) / 2)
    noise = np.random.default_rng(seed + 1).normal(0, 0.02, scan.shape)
    return np.clip(scan + noise, 0, 1).astype(np.float32), clean < 0.5


def blank_page(paper: float = 0.68, seed: int = 0) -> np.ndarray:
    """Uneven, textured, noisy paper with no ink at all."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:400, 0:360] / 400
    texture = gaussian_filter(rng.normal(0, 0.03, (400, 360)), 1.5)
    return np.clip(paper * (1 - 0.25 * xx) + texture + rng.normal(0, 0.015, (400, 360)), 0, 1).astype(np.float32)


def test_gray_ink_on_dark_shaded_paper_is_normalised_to_black_on_white():
    scan, ink = text_page(paper=0.72, ink=0.52, shading=0.3)
    out = normalize(scan)
    assert np.median(out[~ink]) > 0.95  # the paper, wherever the shading put it
    assert np.median(out[ink]) < 0.25  # ink that was only 0.2 darker than its paper
    assert f_measure(out < 0.5, ink) > 85


def test_normalising_a_blank_page_invents_no_ink():
    out = normalize(blank_page())
    assert np.mean(out < 0.5) < 0.002
    assert normalize(np.full((64, 64), 0.4, np.float32)).min() == 1.0  # flat gray paper is paper


def test_contrast_is_never_stretched_beyond_its_floor():
    faint = 1 - 0.05 * (np.random.default_rng(0).random((200, 200)) > 0.9).astype(np.float32)
    out = normalize(faint)
    assert out.min() >= 1 - 0.05 / MIN_CONTRAST - 0.02  # a 5 % blemish stays a light gray


def test_a_thin_dark_page_edge_does_not_change_how_faint_ink_is_normalised():
    scan, ink = text_page(paper=0.85, ink=0.75)  # ink only 12 % darker than its paper
    framed = scan.copy()
    framed[:2], framed[:, :2] = 0.05, 0.05  # a scanner's black edge lines, under 1 % of the page
    inside = np.s_[40:-40, 40:-40]
    out = normalize(framed)[inside]
    assert np.median(out[ink[inside]]) < 0.75  # the text is still stretched
    assert np.abs(out - normalize(scan)[inside]).max() < 0.05


def test_ink_only_15_percent_darker_than_its_paper_is_stretched_past_half_gray():
    scan, ink = text_page(paper=0.85, ink=0.72)  # a faded page (the contrast floor of 0.3 left it at F 47)
    out = normalize(scan)
    assert np.median(out[ink]) < 0.4
    assert f_measure(out < 0.5, ink) > 85


def photographed(scan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(photo in [0, 1], page region): ``scan`` on a dark table as the evaluation's ``on_a_table`` lays it."""
    from core.evaluation.documents import on_a_table

    photo = on_a_table(BinaryPage("photo", (scan * 255 + 0.5).astype(np.uint8), np.ones(scan.shape, bool)))
    return photo.scan.astype(np.float32) / 255, photo.ink  # the truth marks the whole page: its region


def test_the_dark_table_around_a_photographed_page_is_paper_not_a_band_of_ink():
    scan, ink = text_page(paper=0.8, ink=0.3)
    photo, page = photographed(scan)
    out = normalize(photo)
    assert np.mean(out[~page] < 0.5) < 0.02  # was 0.13: the page's paper carried out over the table
    assert f_measure(out[page] < 0.5, ink.ravel()) > 85


def test_f_measure_and_psnr_match_hand_counts():
    truth = np.zeros((10, 10), bool)
    truth[2:4, 2:7] = True  # 10 ink pixels
    pred = np.zeros_like(truth)
    pred[2:4, 2:5] = True  # 6 hits
    pred[8, :4] = True  # 4 false alarms
    assert f_measure(pred, truth) == pytest.approx(100 * 2 * 0.6 * 0.6 / 1.2)
    assert binary_psnr(pred, truth) == pytest.approx(10 * np.log10(100 / 8))  # 4 misses + 4 false alarms
    assert binary_psnr(truth, truth) > 90


def test_dibco_folder_is_read_by_year_and_scored(tmp_path):
    for year, n in (("2009", 2), ("2011", 1)):
        (tmp_path / year).mkdir()
        for k in range(n):
            scan, ink = text_page(paper=0.75, ink=0.3, seed=k)
            Image.fromarray((scan * 255).astype(np.uint8)).save(tmp_path / year / f"P0{k}_in.png")
            Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).save(tmp_path / year / f"P0{k}_gt.png")
    (tmp_path / "2011" / "H09_in.png").write_bytes((tmp_path / "2011" / "P00_in.png").read_bytes())  # no truth
    years = load_dibco(tmp_path)
    assert {y: [p.name for p in pages] for y, pages in years.items()} == {"2009": ["2009/P00", "2009/P01"],
                                                                          "2011": ["2011/P00"]}
    table = dibco_scores(years, {"Otsu threshold": otsu, "Sauvola threshold": sauvola})
    assert set(table["Otsu threshold"]) == {"2009", "2011", "mean"}
    assert 80 < table["Otsu threshold"]["2009"]["f_measure"] <= 100
    assert load_dibco(tmp_path / "absent") == {}


@pytest.fixture(scope="module")
def cleaner():
    from core.inference import load_model

    return load_model("documents")


@pytest.mark.parametrize("mode", ["gray", "bw"])
def test_the_shipped_cleaner_turns_gray_ink_on_dark_shaded_paper_black_on_white(cleaner, mode):
    # Ink only 0.2 darker than its paper, under shading: the old cleaner faded such text to white.
    from core.serving.documents import clean_both

    scan, ink = text_page(paper=0.72, ink=0.52, shading=0.3)
    gray, bw = clean_both(cleaner, scan)
    page = bw.astype(np.float32) if mode == "bw" else gray
    assert np.median(page[~ink]) > 0.95
    assert np.median(page[ink]) < 0.4
    assert f_measure(page < 0.5, ink) > 85


def test_the_shipped_cleaner_invents_no_ink_on_blank_paper(cleaner):
    from core.serving.documents import clean_array, clean_both

    assert np.mean(clean_array(cleaner, blank_page()) < 0.5) < 0.002
    gray, bw = clean_both(cleaner, blank_page())
    assert np.mean(~bw) < 0.002 and np.mean(gray < 0.5) < 0.002  # neither output mode draws ink either
    assert clean_array(cleaner, np.full((64, 64), 0.4, np.float32)).min() > 0.9  # flat gray paper is paper


def test_the_shipped_cleaner_leaves_the_table_around_a_photographed_page_white(cleaner):
    from core.serving.documents import clean_both

    scan, ink = text_page(paper=0.8, ink=0.3)
    photo, page = photographed(scan)
    gray, bw = clean_both(cleaner, photo)
    assert np.mean(~bw[~page]) < 0.02 and np.mean(gray[~page] < 0.5) < 0.02
    assert f_measure(~bw[page], ink.ravel()) > 85


def test_the_evaluation_scores_the_pages_people_download(cleaner):
    # core.evaluate's shipped methods must give what clean_both serves, in both modes, and the network alone.
    from core.evaluation.documents import SHIPPED, SHIPPED_BW, SHIPPED_NETWORK, shipped
    from core.serving.documents import clean_array, clean_both

    scan, _ = text_page(paper=0.7, ink=0.4, shading=0.2, seed=3)
    fns = shipped(cleaner)
    gray, bw = clean_both(cleaner, scan)
    np.testing.assert_array_equal(fns[SHIPPED](scan), gray)
    np.testing.assert_array_equal(fns[SHIPPED_BW](scan), bw.astype(np.float32))
    np.testing.assert_array_equal(fns[SHIPPED_NETWORK](scan), clean_array(cleaner, scan))


def test_black_and_white_keeps_each_cleaned_mark_at_its_full_width_and_drops_the_others():
    from core.serving.documents import FAINT, black_and_white

    normalized = np.ones((40, 60), np.float32)
    normalized[10:16, 5:55] = 0.2  # a stroke 6 px wide on the page
    normalized[30:34, 20:40] = 0.3  # a mark the cleaner removed (a stain's rim, bleed-through)
    cleaned = np.ones_like(normalized)
    cleaned[10:16, 5:55] = FAINT - 0.05  # the cleaner left the stroke's edges and ends faint gray...
    cleaned[12:14, 8:50] = 0.3  # ...and only its core darker than half gray
    cleaned[30:34, 20:40] = FAINT + 0.05  # the removed mark: lighter than FAINT
    ink = ~black_and_white(cleaned, normalized)
    assert ink[10:16, 5:55].all()  # the whole stroke, as wide and long as on the page
    assert ink.sum() == 6 * 50  # nothing else: the removed mark stays paper
    assert not (~black_and_white(np.ones_like(normalized), normalized)).any()  # no cleaned ink: a blank page


def test_black_and_white_does_not_bring_back_what_the_cleaner_erased_to_paper():
    from core.serving.documents import black_and_white

    normalized = np.ones((40, 60), np.float32)
    normalized[10:16, 5:55] = 0.2  # a stroke...
    normalized[16:30, 30:32] = 0.2  # ...crossed by a stain's rim, dark once the page is normalised
    cleaned = np.ones_like(normalized)
    cleaned[10:16, 5:55] = 0.3  # the cleaner keeps the stroke and erases the rim to (near) white
    cleaned[16:30, 30:32] = 0.95
    ink = ~black_and_white(cleaned, normalized)
    assert ink[10:16, 5:55].all() and ink.sum() == 6 * 50  # the stroke, and not the rim it touches


def test_black_and_white_does_not_flood_a_dark_border_that_a_stroke_touches():
    from core.serving.documents import black_and_white

    normalized = np.ones((40, 60), np.float32)
    normalized[:, :12] = 0.1  # a dark scanner border the cleaner only faded...
    normalized[20:24, 12:40] = 0.2  # ...touched by a stroke
    cleaned = np.ones_like(normalized)
    cleaned[:, :12] = 0.8
    cleaned[21:23, 12:40] = 0.2
    ink = ~black_and_white(cleaned, normalized)
    assert not ink[:, :12].any()  # the border stays paper: the stroke is a small share of that mark
    assert ink[21:23, 12:40].all()  # the cleaned stroke itself is ink


def test_the_gray_output_keeps_the_cleaners_shades_and_draws_the_black_and_white_strokes_just_darker_than_half():
    from core.serving.documents import FAINT, STROKE_EDGE, black_and_white, full_strokes

    normalized = np.ones((40, 60), np.float32)
    normalized[10:16, 5:55] = 0.2  # a stroke 6 px wide on the page
    normalized[30:34, 20:40] = 0.3  # a mark the cleaner removed
    cleaned = np.ones_like(normalized)
    cleaned[30:34, 20:40] = 0.97
    cleaned[10:16, 5:55] = FAINT - 0.05  # faint edges...
    cleaned[12:14, 8:50] = 0.1  # ...around a dark core
    gray = full_strokes(cleaned.copy(), black_and_white(cleaned, normalized))
    assert (gray[12:14, 8:50] == 0.1).all()  # the cleaner's own ink keeps its shade
    edges = np.zeros_like(normalized, bool)
    edges[10:16, 5:55] = True
    edges[12:14, 8:50] = False
    assert (gray[edges] == STROKE_EDGE).all() and 0.45 < STROKE_EDGE < 0.5  # the rest of the stroke: just below half
    assert (gray[~edges & (cleaned >= 0.5)] == cleaned[~edges & (cleaned >= 0.5)]).all()  # paper and the erased mark


def test_the_shipped_gray_output_thresholded_at_half_gray_is_the_black_and_white_page(cleaner):
    from core.serving.documents import clean_array, clean_both

    scan, ink = text_page(paper=0.8, ink=0.35, shading=0.2, seed=3)
    gray, bw = clean_both(cleaner, scan)
    assert ((gray < 0.5) == ~bw).all()
    network = clean_array(cleaner, scan)
    assert np.array_equal(gray[network < 0.5], network[network < 0.5])  # ink the network drew is left as it is
    assert f_measure(gray < 0.5, ink) > 90


@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_white_scan_lines_across_text_are_mended_and_text_is_otherwise_left_alone(dpi):
    from core.serving.documents import dropout_rows, mend_dropouts

    assert len(dropout_rows(np.ones((300, 200), np.float32))) == 0  # blank paper has none
    for seed in range(3):
        page = render_page(np.random.default_rng(seed), (480, 400), dpi=dpi, fonts=bundled_fonts()).image / 255
        page = page.astype(np.float32)
        assert len(dropout_rows(page)) == 0  # the one-pixel gaps of the letters themselves are not dropouts
        cut = page.copy()
        cut[::7] = 1.0  # a white line every 7 rows, as a printer's or scanner's banding draws them
        text_rows = np.flatnonzero(((page[:-2] < 0.5) & (page[2:] < 0.5)).sum(1) >= 8) + 1
        found = set(dropout_rows(cut))
        # every line that crosses text is found, and no other row
        assert set(range(7, 473, 7)) & set(text_rows) <= found <= set(range(0, 480, 7))
        mended = mend_dropouts(cut.copy())
        assert f_measure(mended < 0.5, page < 0.5) > f_measure(cut < 0.5, page < 0.5) + 1
        assert np.array_equal(np.delete(mended, sorted(found), axis=0), np.delete(cut, sorted(found), axis=0))


def test_the_shipped_cleaner_mends_white_scan_lines_across_text(cleaner):
    from core.serving.documents import clean_array, clean_both, dropout_rows

    scan, ink = text_page(paper=0.85, ink=0.2, seed=5)
    scan[::6] = 0.95  # ink missing along every sixth row
    network = clean_array(cleaner, scan)
    gray, bw = clean_both(cleaner, scan)
    assert len(dropout_rows(gray)) <= 0.2 * len(dropout_rows(network)) and len(dropout_rows(network)) >= 10
    assert f_measure(gray < 0.5, ink) > f_measure(network < 0.5, ink) + 1
    assert f_measure(gray < 0.5, ink) > 90 and f_measure(~bw, ink) > 90


def write_binary_set(folder, names: list[str], seed: int = 0) -> None:
    """A set folder in the dibco-dev / real-train layout: NAME_in.png scans and NAME_gt.png truths (0 = ink)."""
    folder.mkdir(parents=True)
    for k, name in enumerate(names):
        scan, ink = text_page(paper=0.7, ink=0.35, seed=seed + k)
        Image.fromarray((scan * 255).astype(np.uint8)).save(folder / f"{name}_in.png")
        Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).save(folder / f"{name}_gt.png")


def test_each_fold_leaves_exactly_its_set_out_of_training(tmp_path):
    write_binary_set(tmp_path / "dibco" / "2009", ["P01", "H02"])
    write_binary_set(tmp_path / "dibco" / "2010", ["H01"], seed=5)
    write_binary_set(tmp_path / "train" / "nabuco", ["L1", "L2"], seed=9)
    sets = historical_sets(tmp_path / "dibco", tmp_path / "train")
    assert {k: [p.name for p in v] for k, v in sets.items()} == {
        "2009": ["2009/H02", "2009/P01"], "2010": ["2010/H01"], "nabuco": ["nabuco/L1", "nabuco/L2"]}
    every = {p.name for pages in sets.values() for p in pages}
    for held in sets:
        train, scored = fold(sets, held)
        assert {p.name for p in scored} == {p.name for p in sets[held]}
        assert not {p.name for p in train} & {p.name for p in scored}
        assert {p.name for p in train} | {p.name for p in scored} == every
    assert {p.name for p in fold(sets, None)[0]} == every and fold(sets, None)[1] == []
    with pytest.raises(ValueError, match="msi2015"):
        fold(sets, "msi2015")


def test_a_weights_folder_without_fold_models_scores_only_what_it_can(tmp_path):
    """A newly trained cleaner, evaluated before its folds exist: the DIBCO years get no shipped row (no cleaner
    may score them), the printed pages' OCR only the methods every page has, the skipped sets the shipped one."""
    import shutil

    from core.config import WEIGHTS_DIR
    from core.evaluation.documents import BASE, SHIPPED, historical_scores

    for name in ("documents", "documents_base"):
        for suffix in (".keras", ".json"):
            shutil.copy(WEIGHTS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    write_binary_set(tmp_path / "dibco" / "2009", ["P01"])
    write_binary_set(tmp_path / "train" / "nabuco", ["L1"], seed=9)
    result = historical_scores(historical_sets(tmp_path / "dibco", tmp_path / "train"), tmp_path)
    assert set(result["scores"][SHIPPED]) == {"nabuco"} and "targets_met" not in result
    assert BASE in result["tesseract_cer_printed"] and SHIPPED not in result["tesseract_cer_printed"]
    assert result["captures"] == {}


def test_no_shipped_fold_model_trained_on_the_set_it_scores():
    from core.card import read_card
    from core.config import WEIGHTS_DIR
    from core.evaluation.documents import fold_model, fold_path

    for name in ("2009", "2010", "2011", "msi2015", "nabuco"):
        path = fold_path(WEIGHTS_DIR, name)
        card = read_card(path.with_suffix(".json"))
        assert name == card["recipe"]["hold_out"] or name in card["recipe"]["skip_sets"].split(",")
        trained = card["data"]["historical"]["train_pages"]
        assert trained and not [page for page in trained if page.split("/")[0] == name]
        assert fold_model(path, name, []) is not None  # its checksum and safe_mode
    shipped = read_card(WEIGHTS_DIR / "documents.json")
    assert shipped["recipe"]["hold_out"] is None and shipped["data"]["historical"]["train_pages"]


def test_a_fold_model_that_saw_the_pages_it_would_score_is_refused(tmp_path):
    import shutil

    from core.card import read_card, write_card
    from core.config import WEIGHTS_DIR
    from core.evaluation.documents import FOLDS, fold_model, fold_path

    write_binary_set(tmp_path / "data" / "2010", ["H01"])
    pages = load_dibco(tmp_path / "data")["2010"]
    folder = tmp_path / "weights" / FOLDS / "2010"
    shutil.copytree(WEIGHTS_DIR / FOLDS / "2011", folder)
    path = fold_path(tmp_path / "weights", "2010")
    assert path == folder / "documents.keras" and fold_path(tmp_path / "weights", "2009") is None
    with pytest.raises(ValueError, match="trained on pages of 2010"):  # its card says it left out 2011
        fold_model(path, "2010", pages)
    card = read_card(folder / "documents.json")
    card["recipe"]["hold_out"] = "2010"
    trained = card["data"]["historical"]["train_pages"]
    card["data"]["historical"]["train_pages"] = [page for page in trained if not page.startswith("2010/")]
    write_card(folder / "documents.json", card)
    assert fold_model(path, "2010", pages) is not None
    card["data"]["historical"]["train_pages"].append("2010/H01")
    write_card(folder / "documents.json", card)
    with pytest.raises(ValueError, match="trained on pages of 2010"):
        fold_model(path, "2010", pages)


def test_other_captures_are_scored_by_each_years_fold_and_printed(tmp_path):
    from core.config import WEIGHTS_DIR
    from core.evaluation.documents import (CAPTURES, FADE, PAPER_QUANTILE, SHIPPED, UNSCALED, captures, fold_model,
                                           fold_path, markdown, blurred_and_noisy, faded, on_a_table, shipped)

    write_binary_set(tmp_path / "2009", ["X01"])
    write_binary_set(tmp_path / "2010", ["X01"], seed=3)
    years = load_dibco(tmp_path)
    models = {year: fold_model(fold_path(WEIGHTS_DIR, year), year, pages) for year, pages in years.items()}
    cleaners = {year: (model, shipped(model)) for year, model in models.items()}
    table = captures(years, cleaners)["f_measure"]
    assert set(table) == {SHIPPED, UNSCALED, "Sauvola threshold"}
    for row in table.values():
        assert list(row) == list(CAPTURES)
        for cell in row.values():
            assert set(cell) == {"mean", "2009", "2010"} and cell["mean"] == pytest.approx(
                (cell["2009"] + cell["2010"]) / 2, abs=0.01)
    assert table[SHIPPED]["×1"]["mean"] > 80 and table[SHIPPED]["on a table"]["mean"] > 80
    page = years["2009"][0]
    photo = on_a_table(page)
    m = (photo.scan.shape[0] - page.scan.shape[0]) // 2
    assert photo.ink.sum() == page.ink.sum() and photo.ink[m:-m, m:-m].sum() == page.ink.sum()
    assert photo.scan[0].max() <= 64 and photo.scan[m:-m, m:-m][:, 0].mean() > 0.6 * page.scan[:, 0].mean()
    assert captures(years | {"2012": years["2009"]}, cleaners) == {}  # no fold cleaner for 2012
    card = {"held_out_synthetic": {"pages": 1, "size": [1, 1], "rmse": {}}, "held_out_real": "not measured",
            "historical": {"pages": {}, "binarised_at": 0.5, "scores": {}, "captures": {"f_measure": table}}}
    assert f"| {UNSCALED} | " in markdown(card)
    assert "| ×1.5 | ×2 | on a table | blurred, noisy | faded |" in markdown(card)
    assert ("resampled to 0.5 times as many pixels a side (a coarser scan: 150 dpi for a 300 dpi page), to 1.5 and 2 "
            "times (a finer scan), and photographed") in markdown(card)  # the prose follows the card's columns
    finer_only = {name: {c: v for c, v in row.items() if c != "×0.5"} for name, row in table.items()}
    card["historical"]["captures"]["f_measure"] = finer_only
    assert "resampled to 1.5 and 2 times as many pixels a side (a finer scan), and photographed" in markdown(card)
    card["historical"]["captures"]["f_measure"] = {name: {c: v for c, v in row.items() if c in ("×1", "faded")}
                                                   for name, row in table.items()}
    assert "fold's model: photographed on a dark table" in markdown(card)
    blurred = blurred_and_noisy(page)
    np.testing.assert_array_equal(blurred.scan, blurred_and_noisy(page).scan)  # the same noise every time
    assert blurred.ink is page.ink and blurred.scan.shape == page.scan.shape and not np.array_equal(blurred.scan,
                                                                                                     page.scan)
    pale = faded(page)  # the ink keeps FADE of its contrast with the paper; the paper stays
    paper = np.percentile(page.scan, PAPER_QUANTILE)
    contrast = lambda p: paper - np.median(p.scan[page.ink])  # noqa: E731
    assert pale.ink is page.ink and contrast(pale) == pytest.approx(FADE * contrast(page), abs=1)
    assert np.array_equal(pale.scan[page.scan >= paper], page.scan[page.scan >= paper])
