"""Startup: cold start of the app (server start -> home painted in Chromium) and the first visit of each page.

Run: python bench/startup.py [--repeats 3] [--read 10]. For each repeat a fresh ``streamlit run app.py`` on a
free localhost port (Chromium already running): the time from starting the server to the home page's
four pictures being painted, then, in the same tab, a click on each page in the sidebar and the time until
that page is painted (Denoise: the item with its scores; Latent explorer: the pad decoding in the browser;
Clean documents: the uploader). Twice per repeat: clicking right after home is painted ("at once"), and
after ``--read`` seconds on the home page, as a reader would (TensorFlow loads in the background meanwhile).
Prints a Markdown table of medians (seconds) and the load average. Targets: home < 5 s cold, each page < 3 s.

A/B on a busy machine: ``--root`` twice (e.g. a ``git worktree`` of the commit before, and ``.``) serves each tree
in turn within every repeat, so both see the same load; ``--pages`` limits the clicks to some pages.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, NAVIGATION, PAGE_PATHS, serve_app, wait_painted  # noqa: E402


def one_start(browser, pause_s: float, root: Path = ROOT, pages: tuple[str, ...] = NAVIGATION[1:]) -> dict[str, float]:
    """Seconds from server start to the home painted, then from each sidebar click (``pages``) to that page painted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    times = {}
    start = time.perf_counter()
    with serve_app(poll=0.02, root=root) as (url, _):
        page.goto(url)
        wait_painted(page, "")
        times["home, cold"] = time.perf_counter() - start
        page.wait_for_timeout(pause_s * 1000)
        for path, title in zip(PAGE_PATHS[1:], NAVIGATION[1:]):
            if title not in pages:
                continue
            t = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
            page.wait_for_url(f"{url}/{path}")
            wait_painted(page, path)
            times[title] = time.perf_counter() - t
    context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--read", type=float, default=10.0, help="seconds on the home page before the clicks")
    parser.add_argument("--root", type=Path, action="append",
                        help="the app's folder (default: this checkout); twice or more for an interleaved A/B")
    parser.add_argument("--pages", nargs="+", choices=NAVIGATION[1:], default=NAVIGATION[1:],
                        help="the pages to click (default: all)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    roots = [r.resolve() for r in args.root or [ROOT]]
    runs: dict[str, list[dict[str, float]]] = {
        label + (f" ({root})" if len(roots) > 1 else ""): []
        for root in roots for label in ("at once", f"after {args.read:g} s on home")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.repeats):
            for (label, results), (root, pause) in zip(runs.items(), [(r, s) for r in roots for s in (0.0, args.read)]):
                results.append(one_start(browser, pause, root, tuple(args.pages)))
        browser.close()
    columns = ["home, cold", *[t for t in NAVIGATION[1:] if t in args.pages]]
    print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}; median of {args.repeats} "
          "fresh servers, seconds\n")
    print("| clicks | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for label, results in runs.items():
        cells = [f"{statistics.median(r[c] for r in results):.2f}" for c in columns]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nall runs: " + "; ".join(f"{label}: " + ", ".join(f"{c} {r[c]:.2f}" for c in columns)
                                    for label, results in runs.items() for r in results))


if __name__ == "__main__":
    main()
