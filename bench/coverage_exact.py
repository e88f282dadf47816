"""Exact coverage where a study is one binomial count, and what an interval can reach.

With two coders, no missing rating and identity weights, percent agreement is
1 - k / n and Brennan-Prediger a fixed linear map of it, k the number of units
the coders disagree on: k ~ Binomial(n, 1 - p_a), p_a the population percent
agreement. Every interval method that reads no resample (score, log-jackknife)
then gives one interval per k, so its coverage is a finite sum, computed here
exactly instead of estimated from simulated studies.

That sum also says what no method can do: an interval whose ends rise with
the observed agreement covers the population value for a run of k (a <= k <= b),
so its coverage is P(a <= k <= b) for some a <= b. Where no run's probability
lies in [93, 97] %, that band is out of reach of every such interval on that
design (the bench marks the cell "‡").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from annotator.agreement.coded import encode
from annotator.agreement.coder_model import Design
from annotator.agreement.intervals_by_method import RESAMPLED, kappa_family_intervals

EXACT_COEFFICIENTS = ("percent_agreement", "brennan_prediger")


def applies(design: Design) -> bool:
    """Whether the design's percent agreement is a function of one binomial count."""
    return design.n_coders == 2 and design.missing == 0 and design.weights == "identity"


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(k) for k = 0..n under Binomial(n, p)."""
    return np.array([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])


def count_coding(design: Design, disagreeing: int) -> Any:
    """A two-coder study of the design's size whose coders differ on ``disagreeing``
    units (every such study gives the same percent agreement and intervals)."""
    n = design.n_units
    first = np.zeros(n, dtype=int)
    second = (np.arange(n) < disagreeing).astype(int)
    return encode(
        np.repeat(np.arange(n), 2),
        np.tile([0, 1], n),
        np.column_stack([first, second]).ravel(),
        level=design.level,
        categories=design.categories,
    )


def reachable(pmf: np.ndarray, band: tuple[float, float]) -> tuple[bool, float, float]:
    """Whether some run a..b of counts has probability in ``band``, and the
    run probabilities nearest the band from below and from above."""
    cdf = np.concatenate([[0.0], np.cumsum(pmf)])
    runs = (cdf[None, :] - cdf[:, None])[np.triu_indices(len(cdf), k=1)]
    inside = (runs >= band[0]) & (runs <= band[1])
    below = runs[runs < band[0]]
    above = runs[runs > band[1]]
    return (
        bool(inside.any()),
        float(below.max()) if len(below) else math.nan,
        float(above.min()) if len(above) else math.nan,
    )


def exact_coverage(
    design: Design,
    truth: dict[str, float],
    methods: dict[str, list[str]],
    band: tuple[float, float],
) -> tuple[dict[tuple[str, str], float], dict[str, tuple[bool, float, float]]]:
    """Per (coefficient, method) the exact coverage of each method that reads
    no resample, and per coefficient whether the band is reachable at all
    (with the nearest run probabilities either side)."""
    p_disagree = 1.0 - truth["percent_agreement"]
    pmf = binomial_pmf(design.n_units, p_disagree)
    wanted = sorted(
        {
            m
            for c in EXACT_COEFFICIENTS
            for m in methods.get(c, [])
            if m not in RESAMPLED
        }
    )
    coverage: dict[tuple[str, str], float] = {}
    if wanted:
        covers = {
            (c, m): np.zeros(len(pmf), dtype=bool)
            for c in EXACT_COEFFICIENTS
            for m in wanted
        }
        for k in range(len(pmf)):
            family = kappa_family_intervals(
                count_coding(design, k), "identity", seed=0, methods=tuple(wanted)
            )
            for coef, method in covers:
                iv = family[coef][method]
                covers[coef, method][k] = iv.holds and iv.low <= truth[coef] <= iv.high
        coverage = {key: float(pmf[hit].sum()) for key, hit in covers.items()}
    reach = reachable(pmf, band)
    return coverage, {c: reach for c in EXACT_COEFFICIENTS}


def lattice_lines(cells: list[Any], band: tuple[float, float]) -> str:
    """One line per two-coder nominal design: k's law and the reachable coverages."""
    rows = []
    for cell in cells:
        if not cell.reach:
            continue
        ok, below, above = cell.reach[EXACT_COEFFICIENTS[0]]
        p = 1.0 - cell.truth["percent_agreement"]
        nearest = f"{100 * below:.1f} % and {100 * above:.1f} %"
        words = "reachable" if ok else f"out of reach: the nearest are {nearest}"
        rows.append(
            f"- {cell.design.name}: k ~ Binomial({cell.design.n_units}, {p:.3f}); "
            f"93–97 % {words}"
        )
    return "\n".join(rows) if rows else "- none selected"
