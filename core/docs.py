"""The numbers in README.md and docs/*.md, rendered from the model cards: ``python -m core.docs [--check]``.

A generated block sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``; NAME picks its
renderer in ``BLOCKS``. Everything else in those files is written by hand.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from core.card import read_card
from core.config import CLASS_NAMES, DOCUMENTS_FIRST_STAGE, PROJECT_DIR, card_path, model_name
from core.evaluation.denoiser import from_cards, quality_bar, table

DOCS = (PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md")))
BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def card(model: str, architecture: str | None = None, part: str | None = None) -> dict:
    """The card of one shipped or baseline model, e.g. ``card("vae", "seed", "decoder")``."""
    return read_card(card_path(model_name(model, architecture, part)))


def denoiser() -> str:
    """The table and quality bar that ``python -m core.evaluate denoiser`` prints, plus the training cost."""
    shipped, seed = card("denoiser"), card("denoiser", "seed")
    cost = "; ".join(f"{label}: {c['parameters']:,} parameters, {c['training']['epochs_run']} epochs in "
                     f"{c['training']['wall_time_s']:.0f} s" for label, c in (("U-Net", shipped), ("seed", seed)))
    results = from_cards()
    return (table(results) + "\n\n" + "\n".join(f"- {line}" for line in quality_bar(results))
            + f"\n\n{cost}.\n")


def documents() -> str:
    """The tables that ``python -m core.evaluate documents --markdown`` prints, the targets, the training cost."""
    from core.evaluation import documents as E  # loads TensorFlow (through core.inference)

    shipped, seed = card("documents"), card("documents", "seed")
    synth, real, hist = (shipped["evaluation"][k] for k in ("held_out_synthetic", "held_out_real", "historical"))
    said = {True: "met", False: "**not met**"}
    targets = [f"synthetic quality bar (remove ≥ {100 * E.QUALITY_BAR:g} % of the noisy RMSE, beat every baseline; "
               f"removed {100 * synth['rmse_removed']:.1f} %): {said[synth['quality_bar_met']]}",
               f"real Kaggle RMSE ≤ {E.REAL_RMSE_TARGET}: {said[real['target_met']]}",
               *(f"{mode}, held out: DIBCO mean F-measure ≥ {E.DIBCO_F_TARGET:g} %: "
                 f"{said[met['dibco_mean_f_measure']]}, every set ≥ Sauvola + {E.DIBCO_MARGIN:g}: "
                 f"{said[met['every_set_beats_sauvola_by_3']]}"
                 for mode, met in (("gray output at 0.5", hist["targets_met"]),
                                   ("black & white", hist["targets_met_black_and_white"]))),
               f"synthetic RMSE ≤ {E.SYNTHETIC_RMSE_LIMIT:g}: "
               f"{said[synth['rmse'][E.SHIPPED] <= E.SYNTHETIC_RMSE_LIMIT]}",
               *(f"Tesseract CER on synthetic pages ≤ {E.SYNTHETIC_CER_LIMIT:g} ({mode}): "
                 f"{said[synth['tesseract_cer'][method] <= E.SYNTHETIC_CER_LIMIT]}"
                 for mode, method in (("gray", E.SHIPPED), ("black & white", E.SHIPPED_BW)))]
    costs = "; ".join(f"{label}: {_budget(c)}, {t['steps_run']:,} steps = {t['patches_seen']:,} patches, "
                      f"{t['cpu_seconds_used']:.0f} CPU-s, {t['wall_time_s'] / 60:.0f} min wall"
                      for label, c in (("U-Net first stage", read_card(card_path(DOCUMENTS_FIRST_STAGE))),
                                       ("U-Net second stage", shipped), ("seed", seed)) for t in [c["training"]])
    return (E.markdown(shipped["evaluation"]) + "\nTargets: " + "; ".join(targets) + ".\n"
            + f"\nTraining: {costs}.\n")


def documents_limits() -> str:
    """The first Limits bullets of docs/documents.md: where the shipped cleaner stands against its targets, from
    its card (the first stage's rows in it are the "before")."""
    from core.evaluation import documents as E  # loads TensorFlow (through core.inference)

    ev = card("documents")["evaluation"]
    hist = ev["historical"]["scores"]
    f = {method: {s: row[s]["f_measure"] for s in row} for method, row in hist.items()}
    ours, sauvola, alone = f[E.SHIPPED], f["Sauvola threshold"], f["page normalisation alone"]
    reach = "reaching" if ours[E.DIBCO_MEAN] >= E.DIBCO_F_TARGET else "short of"
    nabuco = ours["nabuco"] - sauvola["nabuco"]
    synth, real = (ev[k]["rmse"] for k in ("held_out_synthetic", "held_out_real"))
    before = (synth[E.BASE], real[E.BASE])
    said = {True: "met", False: "**missed**"}
    return (f"- **Historical pages**: held out, the DIBCO mean F-measure is {ours[E.DIBCO_MEAN]:.1f} %, {reach} "
            f"the {E.DIBCO_F_TARGET:g} % target (years {', '.join(f'{ours[y]:.1f}' for y in E.DIBCO_YEARS)}); "
            f"on the Nabuco letters the cleaner scores {ours['nabuco']:.1f} against Sauvola's "
            f"{sauvola['nabuco']:.1f} ({nabuco:+.2f} points; target + {E.DIBCO_MARGIN:g}) and page normalisation "
            f"alone's {alone['nabuco']:.1f}; on faint one-band scans (MSI 2015) its F-measure is "
            f"{ours['msi2015']:.1f}.\n"
            f"- **Synthetic and Kaggle pages**: the second stage gives back some of what the first stage learnt "
            f"there; held-out RMSE from the first stage to the shipped cleaner, synthetic "
            f"{before[0]:.4f} → "
            f"{synth[E.SHIPPED]:.4f} (the {E.SYNTHETIC_RMSE_LIMIT:g} no-regression line: "
            f"{said[synth[E.SHIPPED] <= E.SYNTHETIC_RMSE_LIMIT]}), Kaggle {before[1]:.4f} → {real[E.SHIPPED]:.4f} "
            f"(target {E.REAL_RMSE_TARGET:.3f}: {said[real[E.SHIPPED] <= E.REAL_RMSE_TARGET]}; the network alone is "
            f"{real[E.SHIPPED_NETWORK]:.4f}, the full-width strokes of the gray output cost the rest).\n")


def _budget(card: dict) -> str:
    """A training run's budget as its card states it (a recipe field, or the older cards' prose)."""
    minutes = card.get("recipe", {}).get("cpu_minutes")
    return f"{minutes:g} CPU-minutes" if minutes else card["training"].get("budget", "a fixed number of steps")


def vae() -> str:
    """Test −ELBO of the shipped VAE and the seed baseline, with their size and training time."""
    lines = ["| model | test −ELBO (nats/image) | reconstruction | KL | parameters (enc + dec) | epochs "
             "| training wall time |",
             "|---|---|---|---|---|---|---|"]
    for label, arch in (("shipped (`conv`)", None), ("seed baseline", "seed")):
        enc, dec = card("vae", arch, "encoder"), card("vae", arch, "decoder")
        m = dec["test_neg_elbo_nats"]
        lines.append(f"| {label} | {m['neg_elbo']:.2f} | {m['reconstruction']:.2f} | {m['kl']:.2f} | "
                     f"{enc['parameters']:,} + {dec['parameters']:,} | {dec['training']['epochs_run']} | "
                     f"{dec['training']['wall_time_s']:.0f} s |")
    dec = card("vae", part="decoder")
    test, bounds = dec["test_set"], dec["bounds_nats"]
    return "\n".join(lines) + (f"\n\n{test['images']:,} test images; reconstruction averaged over "
                               f"{test['samples_per_image']} draws of z per image, KL exact. The shipped VAE's "
                               f"{bounds['importance_samples']}-sample importance-weighted bound: −log p(x) ≤ "
                               f"{bounds['importance_weighted_neg_log_likelihood']:.2f} nats; the data's entropy "
                               f"floor (the least any decoder can reach) {bounds['entropy_floor']:.2f}.\n")


def vae_samples() -> str:
    """The realism of each sampler (network × where z comes from), from the renderer's card."""
    renderer, judge = card("vae_renderer"), card("fashion_classifier")
    quality = renderer["sample_quality"]
    lines = ["| what is drawn | FID ↓ | sharpness vs real | mean top probability | class entropy |",
             "|---|---|---|---|---|"]
    for name, row in quality["rows"].items():
        bold = "**" if name == "renderer, z ~ latent mixture" else ""
        lines.append(f"| {bold}{name}{bold} | {row['fid']:.1f} | {row['sharpness_vs_real']:.2f} | "
                     f"{row['mean_top_probability']:.3f} | {row['class_entropy']:.2f} |")
    shares = quality["class_samples_classified_as_their_class"]
    hits = ", ".join(f"{name} {h:.0%}" for name, h in zip(CLASS_NAMES, shares))
    return "\n".join(lines) + (
        f"\n\n{quality['samples']:,} items per row against {quality['samples']:,} real test items, scored in the "
        f"feature space of the project's classifier (`weights/fashion_classifier.keras`, test accuracy "
        f"{judge['test_accuracy']:.1%}). Class samples (\"random dress\") that it calls their class: {hits}. "
        f"Renderer: {renderer['parameters']:,} parameters, {renderer['training']['epochs_run']} epochs, "
        f"{renderer['training']['wall_time_s']:.0f} s.\n")


def headline() -> str:
    """One line per model for the README: its page, its main number against the simplest rival, its doc."""
    from core.evaluation import documents as E  # loads TensorFlow (through core.inference)

    sp10 = card("denoiser")["test_metrics"]["s&p 0.1"]
    ev = card("documents")["evaluation"]
    synth, real, hist = ev["held_out_synthetic"]["rmse"], ev["held_out_real"]["rmse"], ev["historical"]["scores"]
    vae_card = card("vae", part="decoder")
    samples = card("vae_renderer")["sample_quality"]["rows"]
    drawn, floor = samples["renderer, z ~ latent mixture"], samples["real test items (floor)"]
    rows = [
        ("Fashion denoiser", "Denoise", f"**{sp10['model']['psnr_db']:.2f} dB** PSNR on the 10,000 test items at "
         f"10 % salt-and-pepper (noisy {sp10['noisy input']['psnr_db']:.2f}, 3×3 median "
         f"{sp10['median 3×3']['psnr_db']:.2f})", "denoiser"),
        ("Document cleaner", "Clean documents", f"RMSE **{synth[E.SHIPPED]:.4f}** on synthetic held-out pages "
         f"(noisy {synth['noisy input']:.4f}), {real[E.SHIPPED]:.4f} on real Kaggle pages (noisy "
         f"{real['noisy input']:.4f}); DIBCO mean F-measure {hist[E.SHIPPED_BW][E.DIBCO_MEAN]['f_measure']:.1f}"
         f" % in black & white, leaving each year out of training (Sauvola "
         f"{hist['Sauvola threshold'][E.DIBCO_MEAN]['f_measure']:.1f} %)", "documents"),
        ("Clothing VAE (2-D latent)", "Latent explorer",
         f"test −ELBO **{vae_card['test_neg_elbo_nats']['neg_elbo']:.2f}"
         f"** nats per item (seed architecture {vae_card['seed_baseline_test_neg_elbo_nats']['neg_elbo']:.2f}; "
         f"lower is better); random items FID {drawn['fid']:.1f} (real vs real {floor['fid']:.1f}), "
         f"sharpness {drawn['sharpness_vs_real']:.2f} of real items", "vae"),
    ]
    return "\n".join(["| model | page | how good (from its card) | details |", "|---|---|---|---|"]
                     + [f"| {m} | {p} | {h} | [docs/{d}.md](docs/{d}.md) |" for m, p, h, d in rows]) + "\n"


BLOCKS: dict[str, Callable[[], str]] = {"denoiser": denoiser, "documents": documents,
                                         "documents-limits": documents_limits, "vae": vae,
                                         "vae_samples": vae_samples, "headline": headline}


def render(text: str) -> str:
    """The text with every generated block rendered again from the cards."""
    return BLOCK.sub(lambda m: m[1] + BLOCKS[m[2]]() + m[4], text)


def stale(paths: tuple[Path, ...] = DOCS) -> list[Path]:
    """The files whose generated blocks differ from the cards."""
    return [p for p in paths if render(p.read_text()) != p.read_text()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only list stale files; exit status 1 if any")
    args = parser.parse_args(argv)
    paths = stale()
    for path in paths:
        print(f"{'stale' if args.check else 'rewrote'} {path.relative_to(PROJECT_DIR)}")
        if not args.check:
            path.write_text(render(path.read_text()))
    sys.exit(1 if args.check and paths else 0)


if __name__ == "__main__":
    main()
