"""Per-group Krippendorff's alpha for all groups at once (internal; see breakdowns)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._coding import Coded, subset
from ._tables import coincidence_weights, dense_ok, entries, keep_units, pairs
from .alpha import alpha_from_parts, alpha_parts, alpha_value
from .metrics import Difference
from .result import AgreementResult, ratio


def _ordinal_rows(
    n: np.ndarray, g: np.ndarray, c: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Ordinal delta^2 of pairs (c, k) using marginals row n[g] per pair."""
    cum = np.cumsum(n, axis=1)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    between = cum[g, hi] - cum[g, lo] + n[g, lo]
    return (between - (n[g, c] + n[g, k]) / 2.0) ** 2


def grouped_alpha(
    coded: Coded, group: np.ndarray, labels: Sequence[Any], level: str
) -> dict[Any, AgreementResult]:
    """Alpha within each group; ``group`` holds a group code per rating.

    Ratings of one unit in different groups count as different units, and each
    group's expected disagreement uses that group's own values, so the result
    equals ``krippendorff_alpha`` run on each group separately.
    """
    ng, nu, q = len(labels), coded.n_units, coded.q
    if not dense_ok(
        ng, q * q if level == "ordinal" else q
    ):  # very many groups: one by one
        return {
            lab: alpha_from_parts(alpha_parts(subset(coded, group == i), level))
            for i, lab in enumerate(labels)
        }
    cu_labels, cunit = np.unique(group * nu + coded.unit, return_inverse=True)
    cu_group = cu_labels // nu
    regrouped = Coded(
        cunit.ravel(),
        coded.coder,
        coded.value,
        cu_labels,
        coded.coder_labels,
        coded.categories,
        coded.numeric,
        coded.is_set,
    )
    e_all = entries(regrouped)
    e = keep_units(e_all, e_all.m >= 2)
    p = pairs(e)
    w = coincidence_weights(e, p)
    n = np.bincount(
        cu_group[e.unit] * q + e.cat, weights=e.count, minlength=ng * q
    ).reshape(ng, q)
    diff = Difference(level, coded)
    pg = cu_group[p.unit]
    delta = _ordinal_rows(n, pg, p.c, p.k) if level == "ordinal" else diff.at(p.c, p.k)
    observed = np.bincount(pg, weights=w * delta, minlength=ng)
    expected = diff.expected_numerator(n)
    values = alpha_value(n, observed, expected)
    used = np.bincount(cu_group, weights=e_all.m >= 2, minlength=ng)
    single = np.bincount(cu_group, weights=e_all.m == 1, minlength=ng)
    gc = np.unique(group * coded.n_coders + coded.coder) // coded.n_coders
    n_coders = np.bincount(gc, minlength=ng)
    tot = n.sum(axis=1)
    return {
        lab: AgreementResult(
            value=float(values[i]),
            coefficient=f"krippendorff_alpha_{level}",
            n_units=int(used[i]),
            n_pairable=int(round(tot[i])),
            n_coders=int(n_coders[i]),
            excluded_units=int(single[i]),
            observed=ratio(observed[i], tot[i]),
            expected=ratio(expected[i], tot[i] * (tot[i] - 1.0)),
        )
        for i, lab in enumerate(labels)
    }
