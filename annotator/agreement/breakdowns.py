"""Diagnostic breakdowns of agreement: by category, coder pair, coder, group and batch.

All functions are pure and vectorised over units (per-category, per-group and
per-batch alpha are computed for every category/group at once from the same
sparse coincidence contributions as ``krippendorff_alpha``); so is
``coder_stats``' leave-one-out alpha (one pass over the ratings for all coders).
The ``*_from_coded`` variants take ratings already coded once by ``encode``,
so a report that needs every breakdown encodes the data only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, encode, plain, ratings_per_unit, subset
from ._grouped import grouped_alpha
from ._tables import Entries, dense_ok, pairable_entries, pairs
from .alpha import (
    AlphaParts,
    alpha_from_parts,
    alpha_parts,
    alpha_value,
    coincidence_from_parts,
    encode_for_alpha,
)
from .kappa import Weights, cohen_from_coded
from .metrics import agreement_weights
from .result import AgreementResult, ratio


@dataclass(frozen=True)
class LabeledMatrix:
    """A matrix with its row and column labels (categories or coders)."""

    row_labels: tuple[Any, ...]
    col_labels: tuple[Any, ...]
    matrix: np.ndarray
    counts: np.ndarray | None = None  # e.g. shared units behind each pairwise kappa

    def to_dict(self) -> dict[Any, dict[Any, float]]:
        """Nested {row_label: {col_label: value}}."""
        return {
            r: {c: float(self.matrix[i, j]) for j, c in enumerate(self.col_labels)}
            for i, r in enumerate(self.row_labels)
        }


@dataclass(frozen=True)
class CoderStats:
    """One coder's workload and agreement with the others."""

    coder: Any
    n_coded: int  # ratings by this coder
    n_shared_units: int  # of those, units that someone else also rated
    n_comparisons: int  # pairs (this coder's rating, another coder's rating) on a unit
    percent_agreement: float  # share of those comparisons with identical values
    alpha_without: float  # alpha of everyone else (coder left out)


def _labels(values: Any) -> tuple[Any, ...]:
    return tuple(plain(v) for v in values)


RatingPairs = tuple[np.ndarray, np.ndarray]


def rating_pairs(coded: Coded) -> RatingPairs:
    """Indices (i, j) of ordered pairs of same-unit ratings by different coders.

    Only units with two or more ratings can form a pair, so single-rated units
    are dropped before sorting (most units, in a reliability-sample design).
    Compute once and pass to the ``*_from_coded`` breakdowns that take it.
    """
    m = np.bincount(coded.unit, minlength=coded.n_units)
    multi = np.flatnonzero(m[coded.unit] >= 2)
    order = multi[np.argsort(coded.unit[multi], kind="stable")]
    n = len(order)
    e = Entries(coded.unit[order], order, np.ones(n), m, 0)
    p = pairs(e)
    i, j = p.c, p.k
    diff = coded.coder[i] != coded.coder[j]
    return i[diff], j[diff]


def alpha_per_category(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> dict[Any, AgreementResult]:
    """One-vs-rest nominal alpha for each category (each label, for ``level='set'``).

    Why: a single alpha hides which categories coders confuse; recoding the
    data as "category k or not" shows which one drives disagreement. For binary
    data alpha = 1 - (n - 1) o_k,not-k / (n_k (n - n_k)) (Krippendorff 2011,
    nominal alpha on the 2 x 2 coincidence matrix), computed for all categories
    from one set of unit counts. Set-valued ratings count a label as present
    when the rating's set contains it.
    """
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    return per_category_from_coded(coded, categories)


def per_category_from_coded(
    coded: Coded, categories: Sequence[Any] | None = None
) -> dict[Any, AgreementResult]:
    """``alpha_per_category`` for already-coded ratings (see that function)."""
    m = ratings_per_unit(coded)
    e = pairable_entries(coded)
    if coded.is_set:
        labels = (
            tuple(categories)
            if categories is not None
            else tuple(sorted({lab for s in coded.categories for lab in s}, key=str))
        )
        col = {lab: i for i, lab in enumerate(labels)}
        inc = np.zeros((coded.q, max(len(labels), 1)))
        for i, s in enumerate(coded.categories):
            for lab in s:
                inc[i, col[lab]] = 1.0
        uu, local = np.unique(e.unit, return_inverse=True)
        n_ul = np.zeros((len(uu), inc.shape[1]))
        np.add.at(n_ul, local.ravel(), inc[e.cat] * e.count[:, None])
        rows, cats = np.nonzero(n_ul)
        counts, mu = n_ul[rows, cats], e.m[uu][rows].astype(float)
    else:
        labels = coded.categories
        cats, counts, mu = e.cat, e.count, e.m[e.unit].astype(float)
    k = len(labels)
    n_k = np.bincount(cats, weights=counts, minlength=k)
    o_off = np.bincount(cats, weights=counts * (mu - counts) / (mu - 1.0), minlength=k)
    n = float(e.count.sum())
    used, excluded = int((m >= 2).sum()), int((m == 1).sum())
    out = {}
    for i, lab in enumerate(labels):
        expected = n_k[i] * (n - n_k[i])
        out[lab] = AgreementResult(
            value=1.0 - ratio((n - 1.0) * o_off[i], expected),
            coefficient="krippendorff_alpha_nominal_one_vs_rest",
            n_units=used,
            n_pairable=int(n),
            n_coders=coded.n_coders,
            excluded_units=excluded,
            observed=ratio(2.0 * o_off[i], n),
            expected=ratio(2.0 * expected, n * (n - 1.0)),
        )
    return out


def pairwise_cohen_kappa(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> LabeledMatrix:
    """Cohen's kappa for every pair of coders, over the units each pair shares.

    Why: shows which coder pairs drive (dis)agreement. ``matrix[a, b]`` is
    kappa between coders a and b (symmetric), nan on the diagonal and where a
    pair shares fewer than 2 units; ``counts`` holds the shared units. Source:
    Cohen (1960, 1968), as in ``cohen_kappa``.
    """
    coded = encode(units, coders, values, level="auto", categories=categories)
    return pairwise_kappa_from_coded(coded, agreement_weights(weights, coded.q))


def pairwise_kappa_from_coded(
    coded: Coded, w: np.ndarray, ij: RatingPairs | None = None
) -> LabeledMatrix:
    """``pairwise_cohen_kappa`` for already-coded ratings and a weight matrix."""
    nc, q = coded.n_coders, coded.q
    kappa = np.full((nc, nc), np.nan)
    if dense_ok(nc * nc, q * q):
        i, j = ij if ij is not None else rating_pairs(coded)
        a, b = coded.coder[i], coded.coder[j]
        key = ((a * nc + b) * q + coded.value[i]) * q + coded.value[j]
        t = (
            np.bincount(key, minlength=nc * nc * q * q)
            .reshape(nc, nc, q, q)
            .astype(float)
        )
        shared = t.sum(axis=(2, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            pa = np.einsum("abkl,kl->ab", t, w) / shared
            pe = (
                np.einsum("abk,kl,abl->ab", t.sum(axis=3), w, t.sum(axis=2)) / shared**2
            )
            kappa = (pa - pe) / (1.0 - pe)
        kappa = np.where(np.isfinite(kappa), kappa, np.nan)
    else:  # too many coders x categories for one table: one pair at a time
        shared = np.zeros((nc, nc))
        for a in range(nc):
            for b in range(a + 1, nc):
                r = cohen_from_coded(coded, w, a, b)
                kappa[a, b] = kappa[b, a] = r.value
                shared[a, b] = shared[b, a] = r.n_units
    kappa[shared < 2] = np.nan
    np.fill_diagonal(kappa, np.nan)
    labels = _labels(coded.coder_labels)
    return LabeledMatrix(labels, labels, kappa, shared.astype(np.int64))


def coder_stats(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> dict[Any, CoderStats]:
    """Per coder: ratings, shared units, exact agreement, alpha without that coder.

    Why: a coder whose removal raises alpha markedly, or whose agreement with
    colleagues is low, is the first candidate for retraining. Percent
    agreement counts every (this coder, other coder) pair of ratings on the
    same unit; ``alpha_without`` is ``krippendorff_alpha`` at ``level`` on the
    ratings of all other coders (Krippendorff 2011).
    """
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    return coder_stats_from_coded(coded, level)


def coder_stats_from_coded(
    coded: Coded,
    level: str,
    ij: RatingPairs | None = None,
    parts: AlphaParts | None = None,
) -> dict[Any, CoderStats]:
    """``coder_stats`` for already-coded ratings (see that function); ``ij`` and
    ``parts`` reuse ``rating_pairs(coded)`` and ``alpha_parts(coded, level)``."""
    nc = coded.n_coders
    i, j = ij if ij is not None else rating_pairs(coded)
    agree = (coded.value[i] == coded.value[j]).astype(float)
    comparisons = np.bincount(coded.coder[i], minlength=nc)
    agreements = np.bincount(coded.coder[i], weights=agree, minlength=nc)
    n_coded = np.bincount(coded.coder, minlength=nc)
    m = np.bincount(coded.unit, minlength=coded.n_units)
    shared = np.bincount(coded.coder, weights=(m[coded.unit] >= 2), minlength=nc)
    without = leave_one_coder_out_alpha(coded, level, parts)
    return {
        label: CoderStats(
            coder=label,
            n_coded=int(n_coded[g]),
            n_shared_units=int(shared[g]),
            n_comparisons=int(comparisons[g]),
            percent_agreement=ratio(agreements[g], comparisons[g]),
            alpha_without=float(without[g]),
        )
        for g, label in enumerate(_labels(coded.coder_labels))
    }


def leave_one_coder_out_alpha(
    coded: Coded, level: str, parts: AlphaParts | None = None
) -> np.ndarray:
    """Alpha with each coder's ratings removed, for all coders at once.

    Why: alpha depends on the data only through the coincidence matrix o_ck
    (Krippendorff 2011), and removing one rating changes only its own unit's
    contribution n_uc (n_uk - [c=k]) / (m_u - 1). So each coder's matrix is
    the full one plus, for every rating of theirs, that unit's contribution
    with the rating taken out minus the contribution with it in: one pass over
    the ratings instead of one alpha per coder. Falls back to recomputing
    alpha per coder when coders x categories^2 is too large to hold.
    """
    nc, q = coded.n_coders, coded.q
    if nc == 0:
        return np.zeros(0)
    if not dense_ok(nc, q * q):
        return np.array(
            [
                alpha_from_parts(
                    alpha_parts(subset(coded, coded.coder != g), level)
                ).value
                for g in range(nc)
            ]
        )
    if parts is None:
        parts = alpha_parts(coded, level)
    e = parts.entries
    o_full = coincidence_from_parts(parts)
    # Each rating of a unit with >= 2 ratings, against every entry pair of its unit.
    m_all = e.m
    rated = m_all[coded.unit] >= 2
    r_unit, r_coder, r_value = (
        coded.unit[rated],
        coded.coder[rated],
        coded.value[rated],
    )
    p = parts.pairs
    order = np.argsort(p.unit, kind="stable")
    pu = p.unit[order]
    starts = np.searchsorted(pu, r_unit)
    sizes = np.searchsorted(pu, r_unit, side="right") - starts
    rep = np.repeat(np.arange(len(r_unit)), sizes)
    idx = order[
        np.repeat(starts, sizes)
        + (np.arange(len(rep)) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    ]
    c, k = p.c[idx], p.k[idx]
    v = r_value[rep]
    m = m_all[p.unit[idx]].astype(float)
    n_c = p.n_c[idx] - (c == v)
    n_k = p.n_k[idx] - (k == v)
    same = (c == k).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        new = np.where(m - 1.0 >= 2.0, n_c * (n_k - same) / (m - 2.0), 0.0)
    change = new - parts.weight[idx]
    key = (r_coder[rep] * q + c) * q + k
    delta_o = np.bincount(key, weights=change, minlength=nc * q * q).reshape(nc, q, q)
    o = o_full[None, :, :] + delta_o
    o[np.abs(o) < 1e-9] = 0.0
    n = o.sum(axis=2)
    cc, kk = np.meshgrid(np.arange(q), np.arange(q), indexing="ij")
    cc, kk = cc.ravel(), kk.ravel()
    if parts.diff.needs_marginals:
        delta = np.stack([parts.diff.at(cc, kk, n[g]) for g in range(nc)])
    else:
        delta = np.broadcast_to(parts.diff.at(cc, kk), (nc, q * q))
    observed = (o.reshape(nc, q * q) * delta).sum(axis=1)
    return alpha_value(n, observed, parts.diff.expected_numerator(n))


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
    return codes.ravel().astype(np.int64), _labels(labels)


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


def coincidence_matrix(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> LabeledMatrix:
    """Krippendorff's coincidence matrix o_ck over the ordered category scale.

    Why: the matrix alpha is computed from; its off-diagonal cells show which
    values coders confuse, weighted so that every unit contributes m_u pairable
    values. Source: Krippendorff (2011), coincidence matrix section.
    """
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    o = coincidence_from_parts(alpha_parts(coded, level))
    return LabeledMatrix(coded.categories, coded.categories, o)


def _coder_code(coded: Coded, label: Any) -> int:
    for i, lab in enumerate(coded.coder_labels):
        if plain(lab) == label or str(plain(lab)) == str(label):
            return i
    raise ValueError(f"unknown coder {label!r}")


def confusion_matrix(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    coder_a: Any = None,
    coder_b: Any = None,
    categories: Sequence[Any] | None = None,
) -> LabeledMatrix:
    """Confusion matrix of two coders (rows: coder_a) or, pooled, of all coder pairs.

    Why: the raw material behind Cohen's kappa (two coders) or a quick view of
    systematic confusions (pooled). Pooled counts every ordered pair of
    ratings of the same unit by different coders, so it is symmetric and each
    disagreement appears in both (c, k) and (k, c).
    """
    coded = encode(units, coders, values, level="auto", categories=categories)
    if (coder_a is None) != (coder_b is None):
        raise ValueError(
            "give both coder_a and coder_b, or neither for the pooled matrix"
        )
    if coder_a is not None:
        from .kappa import contingency

        table, _ = contingency(
            coded, _coder_code(coded, coder_a), _coder_code(coded, coder_b)
        )
        return LabeledMatrix(coded.categories, coded.categories, table.astype(np.int64))
    return pooled_confusion_from_coded(coded)


def pooled_confusion_from_coded(
    coded: Coded, ij: RatingPairs | None = None
) -> LabeledMatrix:
    """The pooled ``confusion_matrix`` of already-coded ratings."""
    q = coded.q
    i, j = ij if ij is not None else rating_pairs(coded)
    key = coded.value[i] * q + coded.value[j]
    table = np.bincount(key, minlength=q * q).reshape(q, q)
    return LabeledMatrix(coded.categories, coded.categories, table.astype(np.int64))
