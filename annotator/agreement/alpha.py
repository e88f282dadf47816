"""Krippendorff's alpha for any number of coders, missing ratings and five metrics.

Implements Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability"
(Annenberg School for Communication, University of Pennsylvania): values are
pooled into a coincidence matrix o_ck = sum_u n_uc (n_uk - [c=k]) / (m_u - 1)
over units with m_u >= 2 ratings, and

    alpha = 1 - (n - 1) * sum_ck o_ck delta^2_ck / sum_ck n_c n_k delta^2_ck

with n_c = sum_k o_ck and n = sum_c n_c (the pairable values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, check_level, encode, ratings_per_unit
from ._tables import Entries, Pairs, coincidence_weights, pairable_entries, pairs
from .metrics import Difference
from .result import AgreementResult, ratio


@dataclass(frozen=True)
class AlphaParts:
    """Everything alpha is computed from; reused by the bootstrap and breakdowns."""

    coded: Coded
    level: str
    entries: Entries  # only units with >= 2 ratings
    pairs: Pairs
    weight: np.ndarray  # coincidence contribution of each pair
    n: np.ndarray  # pairable-value marginals n_c
    diff: Difference
    n_units: int
    excluded_units: int

    @property
    def n_pairable(self) -> int:
        return int(round(self.n.sum()))


def alpha_parts(coded: Coded, level: str) -> AlphaParts:
    """Build the sparse coincidence contributions of every unit with >= 2 ratings."""
    m = ratings_per_unit(coded)
    e = pairable_entries(coded)
    p = pairs(e)
    w = coincidence_weights(e, p)
    n = np.bincount(e.cat, weights=e.count, minlength=coded.q).astype(float)
    return AlphaParts(
        coded,
        level,
        e,
        p,
        w,
        n,
        Difference(level, coded),
        int((m >= 2).sum()),
        int((m == 1).sum()),
    )


def alpha_value(
    n: np.ndarray, observed_num: np.ndarray, expected_num: np.ndarray
) -> np.ndarray:
    """alpha = 1 - (n - 1) * observed / expected, nan where undefined (batched)."""
    tot = np.asarray(n, dtype=float).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1.0 - (tot - 1.0) * observed_num / expected_num
    return np.where((expected_num > 0) & (tot > 1), a, np.nan)


def alpha_from_parts(parts: AlphaParts, name: str | None = None) -> AgreementResult:
    """Finish alpha from precomputed parts (see ``alpha_parts``)."""
    p, n = parts.pairs, parts.n
    delta = parts.diff.at(p.c, p.k, n)
    observed_num = float(np.dot(parts.weight, delta))
    expected_num = float(parts.diff.expected_numerator(n))
    tot = float(n.sum())
    value = float(alpha_value(n, np.float64(observed_num), np.float64(expected_num)))
    return AgreementResult(
        value=value,
        coefficient=name or f"krippendorff_alpha_{parts.level}",
        n_units=parts.n_units,
        n_pairable=parts.n_pairable,
        n_coders=parts.coded.n_coders,
        excluded_units=parts.excluded_units,
        observed=ratio(observed_num, tot),
        expected=ratio(expected_num, tot * (tot - 1.0)),
    )


def encode_for_alpha(
    units: Any,
    coders: Any,
    values: Any,
    *,
    level: str,
    categories: Sequence[Any] | None,
) -> Coded:
    """Code ratings for alpha (set-valued only when ``level == 'set'``)."""
    check_level(level)
    return encode(units, coders, values, level=level, categories=categories)


def krippendorff_alpha(
    units: Sequence[Any] | np.ndarray,
    coders: Sequence[Any] | np.ndarray,
    values: Sequence[Any] | np.ndarray,
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> AgreementResult:
    """Krippendorff's alpha of the ratings at the given level of measurement.

    Why: alpha is the one coefficient that handles any number of coders,
    missing ratings and nominal/ordinal/interval/ratio/set-valued data on one
    scale, and corrects for small samples via the (n - 1) factor; single-rated
    units carry no information about agreement and are excluded (counted in
    ``excluded_units``). Ordinal order comes from ``categories`` or the sorted
    values (numeric order when all values are numbers, also for numeric strings);
    interval/ratio use the numbers themselves, else 1-based scale positions.
    Set-valued data (``level="set"``, each value an iterable of labels) use the
    MASI distance as delta^2.

    Source: Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability",
    sections on the coincidence matrix and the metric differences
    (ordinal: (sum_{g=c..k} n_g - (n_c + n_k)/2)^2; interval: (c - k)^2;
    ratio: ((c - k)/(c + k))^2); MASI: Passonneau (2006).
    """
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    return alpha_from_parts(
        alpha_parts(coded, level), name=f"krippendorff_alpha_{level}"
    )


def coincidence_from_parts(parts: AlphaParts) -> np.ndarray:
    """Dense q x q coincidence matrix o_ck from precomputed parts."""
    q = parts.coded.q
    p = parts.pairs
    o = np.bincount(p.c * q + p.k, weights=parts.weight, minlength=q * q)
    return o.reshape(q, q)
