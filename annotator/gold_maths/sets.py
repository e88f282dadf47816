"""Set-valued (multi-choice) dimensions: per-category binary aggregation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._input import METHODS, UNDECIDED, GoldInputError, encode_ids, finish, int_column
from .chain import chain, check_methods
from .result import GoldDecisions


def labels_to_indicators(
    rating_units: Sequence[int] | np.ndarray,
    rating_coders: Sequence[int] | np.ndarray,
    label_units: Sequence[int] | np.ndarray,
    label_coders: Sequence[int] | np.ndarray,
    label_values: Sequence[int] | np.ndarray,
    n_categories: int,
) -> np.ndarray:
    """Bool matrix (n_ratings, n_categories): row i marks the categories that
    rating (rating_units[i], rating_coders[i]) chose, from one row per Label.

    Why two inputs: a rating that chose nothing (an empty set) has no Label
    row but is still a rating saying "none of these"; the ratings come from the
    Annotation rows, the choices from the Label rows.
    """
    ru, rc = (
        int_column(rating_units, "rating_units"),
        int_column(rating_coders, "rating_coders"),
    )
    lu, lc, lv = (
        int_column(x, n)
        for x, n in (
            (label_units, "label_units"),
            (label_coders, "label_coders"),
            (label_values, "label_values"),
        )
    )
    if len(ru) != len(rc) or not len(lu) == len(lc) == len(lv):
        raise GoldInputError("rating and label columns must have matching lengths")
    if len(lv) and (lv.min() < 0 or lv.max() >= n_categories):
        raise GoldInputError(f"label_values must be codes 0..{n_categories - 1}")
    rkey = np.stack([ru, rc], axis=1)
    _, inv = np.unique(
        np.concatenate([rkey, np.stack([lu, lc], axis=1)]), axis=0, return_inverse=True
    )
    inv = inv.ravel()
    row_of = np.full(inv.max() + 1 if len(inv) else 0, -1, np.int64)
    row_of[inv[: len(ru)]] = np.arange(len(ru))
    rows = row_of[inv[len(ru) :]]
    if (rows < 0).any():
        i = int(np.flatnonzero(rows < 0)[0])
        raise GoldInputError(
            f"label of coder {int(lc[i])} on unit {int(lu[i])} has no rating row"
        )
    out = np.zeros((len(ru), n_categories), dtype=bool)
    out[rows, lv] = True
    return out


def aggregate_sets(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    chosen: np.ndarray,
    *,
    methods: Sequence[str] = ("unanimous", "single", "majority"),
    min_share: float = 0.5,
    inclusive: bool = False,
    min_posterior: float = 0.0,
    allow_empty: bool = True,
    max_iter: int = 200,
    tol: float = 1e-8,
    smoothing: float = 0.01,
) -> GoldDecisions:
    """Aggregate a multi-choice dimension: one binary aggregation per category.

    ``chosen`` is a bool matrix (n_ratings, n_categories) (see
    ``labels_to_indicators``). For each category k the ratings become "chose k"
    (1) / "did not" (0) and go through the same rule chain as ``aggregate``;
    the gold set is the categories decided 1. A unit is decided only when
    every category is; its method is the latest rule in ``methods`` that any
    of its categories needed (``category_methods`` keeps the detail), so
    "unanimous" means identical sets and "single" one rating. With the model,
    each category gets its own binary Dawid-Skene fit (``category_models``)
    and the set's posterior is the product of the categories' posteriors
    (independence across categories, an approximation). ``allow_empty=False``
    sends units whose decided set is empty to adjudication (for required
    dimensions).

    Why per category: whole-set majority splits votes over every distinct set,
    so {a,b}/{a}/{a,c} would have no winner though all three coders chose a;
    per-category voting is the standard reduction of multi-label aggregation to
    binary problems (Nowak & Rueger 2010, Proc. MIR, 557-566; Zhang & Zhou 2014,
    IEEE TKDE 26(8), 1819-1837, "binary relevance").
    """
    mat = np.asarray(chosen)
    if mat.ndim != 2 or mat.dtype.kind not in "bui":
        raise GoldInputError(
            f"chosen must be a 2-D bool matrix (ratings x categories), "
            f"got shape {mat.shape} dtype {mat.dtype}"
        )
    if mat.dtype.kind != "b" and ((mat != 0) & (mat != 1)).any():
        raise GoldInputError("chosen must hold only 0/1 or booleans")
    methods = check_methods(methods)
    unit_ids, coder_ids, u, c, order = encode_ids(units, coders, len(mat))
    mat = mat[order].astype(np.int64)
    n_cat = mat.shape[1]
    if n_cat == 0:
        raise GoldInputError("chosen has no category columns")
    base = finish(unit_ids, coder_ids, u, c, mat[:, 0], 2)
    ds = {"max_iter": max_iter, "tol": tol, "smoothing": smoothing}
    n_units = len(unit_ids)
    values = np.zeros((n_units, n_cat), dtype=bool)
    cat_methods = np.full((n_units, n_cat), UNDECIDED, np.int8)
    posterior = np.ones(n_units)
    rank = np.array([METHODS.index(m) for m in methods])
    order_of = np.full(len(METHODS), -1)
    order_of[rank] = np.arange(len(rank))
    worst = np.full(n_units, -1)
    models = []
    for k in range(n_cat):
        d = chain(
            base.with_values(mat[:, k], 2),
            methods,
            min_share,
            inclusive,
            min_posterior,
            ds,
        )
        values[:, k] = d.values == 1
        if d.model is not None:
            models.append(d.model)
        cat_methods[:, k] = d.methods
        pos = np.where(d.decided, order_of[d.methods], len(METHODS))
        worst = np.maximum(worst, pos)
        posterior *= np.nan_to_num(d.posteriors, nan=1.0)
    decided = worst < len(METHODS)
    if not allow_empty:
        decided &= values.any(axis=1)
    out_methods = np.where(decided, rank[np.minimum(worst, len(rank) - 1)], UNDECIDED)
    values[~decided] = False
    has_model = "model" in methods
    return GoldDecisions(
        unit_ids,
        values,
        out_methods.astype(np.int8),
        np.where(decided & has_model, posterior, np.nan),
        base.n_ratings,
        None,
        cat_methods,
        tuple(models),
    )
