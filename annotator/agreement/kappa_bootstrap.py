"""Unit-bootstrap intervals for the kappa family's unit-level coefficients.

Percent agreement, Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger are
functions of per-unit sums, so a unit resample is a multinomial draw over
unit types (units with identical category counts) and one matrix product,
as in ``bootstrap_alpha``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._coding import Coded
from ._tables import Entries
from .kappa import prepare_coded
from .uniques import first_and_inverse, sorted_runs

KAPPA_INTERVALS = ("percent_agreement", "fleiss_kappa", "gwet", "brennan_prediger")
_KAPPA_MAX_TYPES = 20_000


def _type_of_units(e: Entries, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group units with identical (category, count) entries: (units, type, first).

    ``units`` are the unit codes present in ``e`` (sorted), ``type`` their type
    id, ``first`` the position in ``units`` of each type's representative.
    """
    units, local = sorted_runs(e.unit)
    starts = np.flatnonzero(np.diff(local, prepend=-1))  # local is sorted
    rank = np.arange(len(local)) - starts[local]
    width = int(rank.max()) + 1
    count = e.count.astype(np.int64)
    top = int(count.max()) + 1
    base = (q + 1) * top
    if base**width < 2**62:
        code = (e.cat + 1) * top + count
        key = code[starts]  # each unit's first entry (rank 0)
        for r in range(1, width):
            at = np.flatnonzero(rank == r)
            key[local[at]] += code[at] * base**r
        first, of_unit = first_and_inverse(key, base)
    else:
        rows = np.full((len(units), 2 * width), -1, dtype=np.int64)
        rows[local, 2 * rank] = e.cat
        rows[local, 2 * rank + 1] = count
        _, first, of_unit = np.unique(
            rows, axis=0, return_index=True, return_inverse=True
        )
    return units, of_unit.ravel(), first


def bootstrap_kappa_family(
    coded: Coded,
    weights: Any = "identity",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Unit-bootstrap percentile intervals for percent agreement, Fleiss' kappa,
    Gwet's AC1/AC2 and Brennan-Prediger, keyed as in ``kappa_family``.

    Why these four: each is a function of per-unit sums only -- p_a averages
    each unit's agreement, pi_k averages each unit's category shares (Gwet
    2014, ch. 2-4) -- so resampling units is a multinomial draw over unit
    types and one matrix product, as in ``bootstrap_alpha``. Conger's kappa
    and Scott's pi depend on each coder's marginals, which a unit resample
    does not decompose into; they get no interval here. All units with a
    rating are resampled (single-rated ones enter pi_k). Intervals are nan
    when there are too many distinct unit types to draw cheaply.
    """
    nan = (math.nan, math.nan)
    prep = prepare_coded(coded, weights)
    e, q, w = prep.e, coded.q, prep.w
    present = e.m >= 1
    if not present.any() or prep.n_used == 0:
        return dict.fromkeys(KAPPA_INTERVALS, nan)
    units, of_unit, first = _type_of_units(e, q)
    n_types = len(first)
    if n_types > _KAPPA_MAX_TYPES:
        return dict.fromkeys(KAPPA_INTERVALS, nan)
    size = np.bincount(of_unit, minlength=n_types).astype(float)
    rep = units[first]  # a representative unit code per type
    r = e.m[rep].astype(float)
    # Per type: the unit's category counts (q-vector) from its entries.
    type_of_code = np.full(len(e.m), -1, dtype=np.int64)
    type_of_code[rep] = np.arange(n_types)
    sel = type_of_code[e.unit] >= 0
    counts = np.zeros((n_types, q))
    counts[type_of_code[e.unit[sel]], e.cat[sel]] = e.count[sel]
    share = counts / r[:, None]
    used = (r >= 2).astype(float)
    s = np.einsum("tk,kl,tl->t", counts, w, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = np.where(used > 0, (s - r) / (r * (r - 1.0)), 0.0)
    n_units = size.sum()
    rng = np.random.default_rng(seed)
    m = rng.multinomial(int(n_units), size / n_units, size=n_resamples).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = (m @ agree) / (m @ used)
    pi = (m @ share) / n_units
    pe = {
        "percent_agreement": np.zeros(n_resamples),
        "fleiss_kappa": np.einsum("bk,kl,bl->b", pi, w, pi),
        "gwet": (
            w.sum() / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=1)
            if q >= 2
            else np.full(n_resamples, np.nan)
        ),
        "brennan_prediger": np.full(n_resamples, w.sum() / q**2),
    }
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name, chance in pe.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            values = (pa - chance) / (1.0 - chance)
        values = values[np.isfinite(values)]
        out[name] = (
            tuple(float(x) for x in np.quantile(values, [tail, 1.0 - tail]))
            if len(values)
            else nan
        )
    return out
