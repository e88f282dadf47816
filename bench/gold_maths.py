#!/usr/bin/env python3
"""Gold-label maths benchmark: 1,000,000 simulated ratings, no database.

Target: the rule chain in well under a second and Dawid-Skene in seconds, not
minutes, for one dimension of a 1M-rating project.

    .venv/bin/python bench/gold_maths.py [--ratings 1000000] [--repeat 3]

Design: units rated by 3 of 50 coders (accuracies uniform in 0.5-0.95, errors
uniform over the other categories), ids shuffled like span and user ids; a
4-category single-choice dimension and a 6-category multi-choice one (each
coder picks each category with a unit-dependent probability). Each figure is
the best of ``--repeat`` runs; peak RSS is the whole process's.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.gold_maths import aggregate, aggregate_sets, dawid_skene  # noqa: E402

CODERS = 50
PER_UNIT = 3


def simulate(n_ratings: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_units = n_ratings // PER_UNIT
    truth = rng.integers(0, k, n_units)
    accuracy = rng.uniform(0.5, 0.95, CODERS)
    unit = np.repeat(np.arange(n_units), PER_UNIT)
    # 3 distinct coders per unit: a random offset and two further steps mod 50
    first = rng.integers(0, CODERS, n_units)
    step = rng.integers(1, CODERS // 2, n_units)
    coder = (first[:, None] + step[:, None] * np.arange(PER_UNIT)) % CODERS
    coder = coder.ravel()
    right = rng.random(len(unit)) < accuracy[coder]
    wrong = (truth[unit] + rng.integers(1, k, len(unit))) % k
    value = np.where(right, truth[unit], wrong)
    span_ids = rng.permutation(10 * n_units)[:n_units] + 1_000_000
    user_ids = rng.permutation(10_000)[:CODERS] + 1
    # truth and accuracy in ascending id order, the order results come in
    by_span, by_user = np.argsort(span_ids), np.argsort(user_ids)
    return truth[by_span], accuracy[by_user], span_ids[unit], user_ids[coder], value


def simulate_sets(n_ratings: int, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n_units = n_ratings // PER_UNIT
    p = rng.beta(0.5, 2.0, (n_units, k))  # how likely each category is chosen
    unit = np.repeat(np.arange(n_units), PER_UNIT)
    coder = np.tile(np.arange(PER_UNIT), n_units)
    chosen = rng.random((len(unit), k)) < p[unit]
    return unit * 7 + 11, coder, chosen


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), times[0], out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    k = 4
    truth, acc, u, c, v = simulate(args.ratings, k)
    print(f"{len(u):,} ratings, {len(truth):,} units, {CODERS} coders, {k} categories")

    t, first, d = best(lambda: aggregate(u, c, v, k), args.repeat)
    print(
        f"rules (unanimous, single, majority): {t:.2f} s (first {first:.2f} s); "
        f"undecided {len(d.undecided_units):,}"
    )

    t, first, fit = best(lambda: dawid_skene(u, c, v, k), args.repeat)
    err = np.abs(fit.accuracy - acc).max()
    hit = (fit.labels == truth).mean()
    print(
        f"dawid_skene: {t:.2f} s (first {first:.2f} s), {fit.n_iter} iterations, "
        f"converged={fit.converged}"
    )
    print(f"  max |accuracy error| {err:.3f}, MAP accuracy {hit:.3f}")

    t_fit = t
    t, first, cap = best(lambda: dawid_skene(u, c, v, k, tol=1e-15, max_iter=200), 1)
    per_iteration = (t - t_fit) / (cap.n_iter - fit.n_iter) * 1000
    print(
        f"dawid_skene to float precision (tol=1e-15): {t:.2f} s, "
        f"{cap.n_iter} iterations, {per_iteration:.0f} ms per further iteration"
    )

    methods = ("unanimous", "single", "model")
    t, first, d = best(lambda: aggregate(u, c, v, k, methods=methods), args.repeat)
    print(f"rules with model: {t:.2f} s (first {first:.2f} s)")

    su, sc, chosen = simulate_sets(args.ratings, 6)
    t, first, d = best(lambda: aggregate_sets(su, sc, chosen), args.repeat)
    print(
        f"sets, 6 categories (unanimous, single, majority): {t:.2f} s "
        f"(first {first:.2f} s); undecided {len(d.undecided_units):,}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
