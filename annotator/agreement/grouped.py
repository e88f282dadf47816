"""Krippendorff's alpha within groups (documents, weeks, batches), all groups at once.

One set of coincidence contributions gives every group's alpha, equal to
``krippendorff_alpha`` run on each group's ratings alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, dense_table_ok, plain_labels, ratings_per_unit, subset
from ._tables import coincidence_weights, dense_ok, pairable_entries, pairs
from .alpha import alpha_from_parts, alpha_parts, alpha_value, encode_for_alpha
from .metrics import Difference
from .result import AgreementResult


def _ordinal_rows(
    n: np.ndarray, g: np.ndarray, c: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Ordinal delta^2 of pairs (c, k) using marginals row n[g] per pair."""
    cum = np.cumsum(n, axis=1)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    between = cum[g, hi] - cum[g, lo] + n[g, lo]
    return (between - (n[g, c] + n[g, k]) / 2.0) ** 2


@dataclass(frozen=True)
class GroupedAlpha:
    """Alpha of every group as parallel arrays (index = group code)."""

    value: np.ndarray
    n_units: np.ndarray  # units with >= 2 ratings in the group
    n_pairable: np.ndarray
    n_coders: np.ndarray
    excluded_units: np.ndarray  # units with exactly one rating in the group
    observed: np.ndarray  # D_o
    expected: np.ndarray  # D_e
    level: str

    def result(self, i: int) -> AgreementResult:
        """Group ``i`` as an ``AgreementResult``."""
        return AgreementResult(
            value=float(self.value[i]),
            coefficient=f"krippendorff_alpha_{self.level}",
            n_units=int(self.n_units[i]),
            n_pairable=int(self.n_pairable[i]),
            n_coders=int(self.n_coders[i]),
            excluded_units=int(self.excluded_units[i]),
            observed=float(self.observed[i]),
            expected=float(self.expected[i]),
        )


def _nested_units(coded: Coded, group: np.ndarray) -> np.ndarray | None:
    """Each unit's group when every unit lies wholly in one group, else None.

    Documents contain their spans and a unit's period is fixed per unit, so
    the usual case needs no regrouping of (group, unit) pairs.
    """
    of_unit = np.full(coded.n_units, -1, dtype=np.int64)
    of_unit[coded.unit] = group
    return of_unit if np.array_equal(of_unit[coded.unit], group) else None


def grouped_alpha_arrays(
    coded: Coded, group: np.ndarray, n_groups: int, level: str
) -> GroupedAlpha:
    """Alpha within each group 0..n_groups-1; ``group`` holds a group code per rating.

    Ratings of one unit in different groups count as different units, and each
    group's expected disagreement uses that group's own values, so the result
    equals ``krippendorff_alpha`` run on each group separately. Vectorised over
    groups: a hundred thousand documents cost about as much as one alpha.
    """
    ng, q, nc = n_groups, coded.q, max(coded.n_coders, 1)
    of_unit = _nested_units(coded, group)
    if of_unit is None:
        nu = coded.n_units
        cu_labels, cunit = np.unique(group * nu + coded.unit, return_inverse=True)
        of_unit = cu_labels // nu
        coded = Coded(
            cunit.ravel(),
            coded.coder,
            coded.value,
            cu_labels,
            coded.coder_labels,
            coded.categories,
            coded.numeric,
            coded.is_set,
        )
    m = ratings_per_unit(coded)
    used_unit = m >= 2
    e = pairable_entries(coded)
    p = pairs(e)
    w = coincidence_weights(e, p)
    n = np.bincount(
        of_unit[e.unit] * q + e.cat, weights=e.count, minlength=ng * q
    ).reshape(ng, q)
    diff = Difference(level, coded)
    pg = of_unit[p.unit]
    delta = _ordinal_rows(n, pg, p.c, p.k) if level == "ordinal" else diff.at(p.c, p.k)
    observed = np.bincount(pg, weights=w * delta, minlength=ng)
    expected = diff.expected_numerator(n)
    values = alpha_value(n, observed, expected)
    present = of_unit >= 0
    used = np.bincount(of_unit[present], weights=used_unit[present], minlength=ng)
    single = np.bincount(of_unit[present], weights=(m == 1)[present], minlength=ng)
    key = group * nc + coded.coder
    if dense_table_ok(ng * nc, len(key)):
        pairs_gc = np.flatnonzero(np.bincount(key, minlength=ng * nc))
    else:
        pairs_gc = np.unique(key)
    n_coders = np.bincount(pairs_gc // nc, minlength=ng)
    tot = n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_o = np.where(tot > 0, observed / tot, np.nan)
        d_e = np.where(tot > 1, expected / (tot * (tot - 1.0)), np.nan)
    return GroupedAlpha(
        values,
        used.astype(np.int64),
        np.rint(tot).astype(np.int64),
        n_coders,
        single.astype(np.int64),
        d_o,
        d_e,
        level,
    )


def grouped_alpha(
    coded: Coded, group: np.ndarray, labels: Sequence[Any], level: str
) -> dict[Any, AgreementResult]:
    """``grouped_alpha_arrays`` as {label: AgreementResult}, in label order."""
    ng, q = len(labels), coded.q
    if not dense_ok(ng, q * q if level == "ordinal" else q):
        # Too many groups x categories for one table: one group at a time.
        return {
            lab: alpha_from_parts(alpha_parts(subset(coded, group == i), level))
            for i, lab in enumerate(labels)
        }
    arrays = grouped_alpha_arrays(coded, group, ng, level)
    return {lab: arrays.result(i) for i, lab in enumerate(labels)}


def _group_codes(
    coded: Coded, groups: Any, name: str
) -> tuple[np.ndarray, tuple[Any, ...]]:
    g = np.asarray(groups)
    if g.ndim != 1 or (coded.kept is None and len(g) != len(coded.unit)):
        raise ValueError(f"{name} must be parallel to units/coders/values")
    if coded.kept is not None:
        if len(g) != len(coded.kept):
            raise ValueError(f"{name} must be parallel to units/coders/values")
        g = g[coded.kept]
    labels, codes = np.unique(g, return_inverse=True)
    return codes.ravel().astype(np.int64), plain_labels(labels)


def alpha_by_group(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    groups: Sequence[Any],
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> dict[Any, AgreementResult]:
    """Krippendorff's alpha computed separately within each group (e.g. per document).

    Why: reliability can differ between documents, sources or codebook
    sections. ``groups`` is parallel to the ratings; ratings of one unit in
    different groups are treated as different units. The category scale is
    shared across groups, but expected disagreement uses each group's own
    values, so every group's alpha equals ``krippendorff_alpha`` on that
    group's ratings alone (Krippendorff 2011).
    """
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    codes, labels = _group_codes(coded, groups, "groups")
    return grouped_alpha(coded, codes, labels, level)


def alpha_over_time(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    times: Sequence[Any],
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
    freq: str | None = None,
) -> dict[Any, AgreementResult]:
    """Alpha per coding batch, in batch order, to watch reliability drift over time.

    Why: agreement usually rises during training and can decay later. ``times``
    is parallel to the ratings: a batch key (round number, date) or, with
    ``freq`` (a numpy datetime unit such as "D", "W", "M"), timestamps floored
    to that unit. Weeks start on Monday (ISO 8601) and are labelled by that
    Monday's date; numpy's own "W" unit counts weeks from Thursday 1970-01-01,
    which would split a Monday-to-Sunday working week in two. Each batch's
    alpha is computed as in ``alpha_by_group``.
    """
    t = np.asarray(times)
    if freq == "W":
        t = floor_to_monday(t)
    elif freq is not None:
        t = t.astype("datetime64[ns]").astype(f"datetime64[{freq}]")
    return alpha_by_group(units, coders, values, t, level=level, categories=categories)


def floor_to_monday(times: Any) -> np.ndarray:
    """Each timestamp's ISO week, as the date (datetime64[D]) of its Monday."""
    days = np.asarray(times).astype("datetime64[ns]").astype("datetime64[D]")
    # 1970-01-01 was a Thursday: shifting by 3 days makes numpy's weeks start Monday.
    shift = np.timedelta64(3, "D")
    return ((days + shift).astype("datetime64[W]").astype("datetime64[D]")) - shift
