"""Latency of one denoising comparison on this machine (``core.serving.denoiser.compare``, what the Denoise
page runs) and of its steps: noise, the "median 3×3" and "model" rows, the scores of one row.

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


from core.data import load_fashion_mnist, to_float  # noqa: E402
from core.metrics import median_baseline, psnr, ssim  # noqa: E402
from core.noise import add_noise  # noqa: E402
from core.serving import denoiser as serving  # noqa: E402


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
    model = serving.load()
    clean_all = to_float(load_fashion_mnist(allow_download=False).x_test)
    print(f"{os.cpu_count()} CPU cores; median of {args.repeats} runs\n")
    print(f"| batch | noise ms | {serving.MEDIAN} ms | {serving.MODEL} ms | {serving.MODEL} via predict ms "
          "| PSNR+SSIM of a row ms | whole comparison ms | per item ms |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (1, 16, 256):
        clean = clean_all[:n]
        noisy = add_noise(clean, "s&p", 0.1, seed=0)
        t_noise = timed(lambda: add_noise(clean, "s&p", 0.1, seed=0), args.repeats)
        t_median = timed(lambda: median_baseline(noisy), args.repeats)
        t_model = timed(lambda: serving.restore(model, noisy), args.repeats)
        t_predict = timed(lambda: model.predict(noisy, verbose=0), max(5, args.repeats // 3))
        t_metrics = timed(lambda: (psnr(clean, noisy), ssim(clean, noisy)), args.repeats)
        total = timed(lambda: serving.compare(clean, "s&p", 0.1, 0, model), args.repeats)
        print(f"| {n} | {t_noise:.2f} | {t_median:.2f} | {t_model:.2f} | {t_predict:.2f} | {t_metrics:.2f} "
              f"| {total:.1f} | {total / n:.2f} |")
        if n == 1:
            single = (t_model, t_predict, t_median)
    print(f"\nratios (batch 1): model.predict / direct call = {single[1] / single[0]:.1f}×, "
          f"model / median filter = {single[0] / single[2]:.1f}×")


if __name__ == "__main__":
    main()
