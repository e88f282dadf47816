"""Per-coder statistics: workload, agreement with the others, alpha without them.

``leave_one_coder_out_alpha`` gives alpha with each coder left out for all
coders in one pass over the ratings, from the change each coder's ratings make
to the coincidence matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, plain_labels, subset
from ._tables import dense_ok
from .alpha import (
    AlphaParts,
    alpha_from_parts,
    alpha_parts,
    alpha_value,
    coincidence_from_parts,
    encode_for_alpha,
)
from .breakdowns import RatingPairs, rating_pairs
from .result import ratio


@dataclass(frozen=True)
class CoderStats:
    """One coder's workload and agreement with the others."""

    coder: Any
    n_coded: int  # ratings by this coder
    n_shared_units: int  # of those, units that someone else also rated
    n_comparisons: int  # pairs (this coder's rating, another coder's rating) on a unit
    percent_agreement: float  # share of those comparisons with identical values
    alpha_without: float  # alpha of everyone else (coder left out)


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
        for g, label in enumerate(plain_labels(coded.coder_labels))
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
