"""Latency of one denoising comparison on this machine: noise, model, median baseline, metrics.

Run: python bench/denoise.py [--repeats 30]. Prints a Markdown table (milliseconds, median of repeats)
and ratios measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from core.data import load_fashion_mnist, to_float  # noqa: E402
from core.inference import load_model, run_batched  # noqa: E402
from core.metrics import median_baseline, psnr, ssim  # noqa: E402
from core.noise import add_noise  # noqa: E402


def timed(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    model = load_model("denoiser")
    clean_all = to_float(load_fashion_mnist(allow_download=False).x_test)
    print(f"{os.cpu_count()} CPU cores; median of {args.repeats} runs\n")
    print("| batch | noise ms | median 3×3 ms | model (direct call) ms | model.predict ms | PSNR+SSIM ms "
          "| whole comparison ms | per item ms |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (1, 16, 256):
        clean = clean_all[:n]
        noisy = add_noise(clean, "s&p", 0.1, seed=0)
        t_noise = timed(lambda: add_noise(clean, "s&p", 0.1, seed=0), args.repeats)
        t_median = timed(lambda: median_baseline(noisy), args.repeats)
        t_model = timed(lambda: run_batched(model, noisy), args.repeats)
        t_predict = timed(lambda: model.predict(noisy, verbose=0), max(5, args.repeats // 3))
        t_metrics = timed(lambda: (psnr(clean, noisy), ssim(clean, noisy)), args.repeats)
        total = t_noise + t_median + t_model + 3 * t_metrics
        print(f"| {n} | {t_noise:.2f} | {t_median:.2f} | {t_model:.2f} | {t_predict:.2f} | {t_metrics:.2f} "
              f"| {total:.1f} | {total / n:.2f} |")
        if n == 1:
            single = (t_model, t_predict, t_median)
    print(f"\nratios (batch 1): model.predict / direct call = {single[1] / single[0]:.1f}×, "
          f"model / median filter = {single[0] / single[2]:.1f}×")


if __name__ == "__main__":
    main()
