"""Diagnostic breakdowns of agreement by category and coder pair, and its matrices.

Per-category alpha, the pairwise Cohen kappa matrix, the coincidence and
confusion matrices; per-coder statistics are in ``coders``, alpha by group and
over time in ``grouped``. All are vectorised over units (per-category alpha for
every category at once from the same unit counts as ``krippendorff_alpha``).
The ``*_from_coded`` variants take ratings already coded once by ``encode``,
so a report that needs every breakdown encodes the data only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, encode, plain, plain_labels, ratings_per_unit
from ._tables import Entries, dense_ok, pairable_entries, pairs
from .alpha import alpha_parts, coincidence_from_parts, encode_for_alpha
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
    labels = plain_labels(coded.coder_labels)
    return LabeledMatrix(labels, labels, kappa, shared.astype(np.int64))


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
