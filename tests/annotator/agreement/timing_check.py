"""Timing check (not a test): python tests/annotator/agreement/timing_check.py

Alpha on 1,000,000 ratings (200,000 units x 2 coders + 600,000 single-coded
units) and a 1,000-resample unit bootstrap on 200,000 units x 2 coders.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from annotator.agreement import bootstrap_alpha, fleiss_kappa, krippendorff_alpha  # noqa: E402


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    paired = 200_000
    single = 600_000
    truth = rng.integers(1, 6, paired)
    noisy = np.where(rng.random(paired) < 0.8, truth, rng.integers(1, 6, paired))
    units = np.concatenate(
        [np.arange(paired), np.arange(paired), paired + np.arange(single)]
    )
    coders = np.concatenate(
        [np.zeros(paired), np.ones(paired), rng.integers(0, 5, single)]
    )
    values = np.concatenate([truth, noisy, rng.integers(1, 6, single)])
    return units, coders.astype(np.int64), values, paired


def _best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    units, coders, values, paired = _data()
    print(f"ratings: {len(values):,}")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        t = _best_of(
            lambda lv=level: krippendorff_alpha(units, coders, values, level=lv)
        )
        print(f"krippendorff_alpha[{level}] on 1M ratings: {t:.3f} s")
    t = _best_of(lambda: fleiss_kappa(units, coders, values))
    print(f"fleiss_kappa on 1M ratings: {t:.3f} s")
    n = 2 * paired
    u, c, v = units[:n], coders[:n], values[:n]
    for level in ("nominal", "ordinal", "interval"):
        t = _best_of(
            lambda lv=level: bootstrap_alpha(u, c, v, level=lv, n_resamples=1000),
            repeat=2,
        )
        print(
            f"bootstrap_alpha[{level}] 1000 resamples, 200k units x 2 coders: {t:.3f} s"
        )
    cont = np.concatenate([np.random.default_rng(1).normal(size=paired)] * 2)
    cont[paired:] += np.random.default_rng(2).normal(scale=0.5, size=paired)
    t = _best_of(
        lambda: bootstrap_alpha(u, c, cont, level="interval", n_resamples=1000), 1
    )
    print(f"bootstrap_alpha[interval, continuous values] 1000 resamples: {t:.3f} s")


if __name__ == "__main__":
    main()
