"""Unit-bootstrap intervals for the kappa family's unit-level coefficients.

Percent agreement, Fleiss' kappa, Gwet's AC1/AC2 and Brennan-Prediger are
functions of per-unit sums, so a unit resample is a multinomial draw over
unit types (units with identical category counts) and one matrix product,
as in ``bootstrap_alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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


@dataclass(frozen=True)
class KappaTables:
    """What every unit resample of one coding shares, computed once.

    Units are collapsed into types (identical category counts); a resample is
    a count of units drawn per type. ``values(m)`` gives each coefficient for
    each row of ``m``; the row ``size`` (every unit once) is the sample itself.
    """

    units: np.ndarray  # unit codes resampled: every unit with a rating
    of_unit: np.ndarray  # type of each of ``units``
    size: np.ndarray  # units per type
    pairable: np.ndarray  # per type: rated by >= 2 coders (its stratum)
    agree: np.ndarray  # per type: the unit's agreement term of p_a (0 if single)
    share: np.ndarray  # per type: r_ik / r_i (types x q)
    w: np.ndarray
    q: int

    def draw(self, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
        """Type counts of ``n_resamples`` stratified resamples (resamples x types).

        Pairable and single-coded units are drawn apart, each stratum as many
        times as it has units: the project's design fixes how many units are
        double-coded (the reliability sample), so every resample keeps that
        number and p_a is never undefined for want of a pairable unit
        (stratified resampling: Davison & Hinkley 1997, sec. 3.2.3).
        """
        m = np.zeros((n_resamples, len(self.size)))
        for stratum in (self.pairable, ~self.pairable):
            n = self.size[stratum].sum()
            if n:
                p = self.size[stratum] / n
                m[:, stratum] = rng.multinomial(int(n), p, size=n_resamples)
        return m

    def values(self, m: np.ndarray) -> dict[str, np.ndarray]:
        """Each interval coefficient (keyed as ``KAPPA_INTERVALS``) per row of ``m``."""
        q, w = self.q, self.w
        with np.errstate(divide="ignore", invalid="ignore"):
            pa = (m @ self.agree) / (m @ self.pairable.astype(float))
            pi = (m @ self.share) / m.sum(axis=1, keepdims=True)
        rows = len(m)
        chance = {
            "percent_agreement": np.zeros(rows),
            "fleiss_kappa": np.einsum("bk,kl,bl->b", pi, w, pi),
            "gwet": (
                w.sum() / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=1)
                if q >= 2
                else np.full(rows, np.nan)
            ),
            "brennan_prediger": np.full(rows, w.sum() / q**2),
        }
        with np.errstate(divide="ignore", invalid="ignore"):
            return {k: (pa - pe) / (1.0 - pe) for k, pe in chance.items()}


def kappa_tables(coded: Coded, weights: Any = "identity") -> KappaTables | None:
    """Resample tables of a coding, or None when there is nothing to resample
    (no unit rated twice) or too many distinct unit types to draw cheaply."""
    prep = prepare_coded(coded, weights)
    e, q, w = prep.e, coded.q, prep.w
    if not (e.m >= 1).any() or prep.n_used == 0:
        return None
    units, of_unit, first = _type_of_units(e, q)
    n_types = len(first)
    if n_types > _KAPPA_MAX_TYPES:
        return None
    size = np.bincount(of_unit, minlength=n_types).astype(float)
    rep = units[first]  # a representative unit code per type
    r = e.m[rep].astype(float)
    # Per type: the unit's category counts (q-vector) from its entries.
    type_of_code = np.full(len(e.m), -1, dtype=np.int64)
    type_of_code[rep] = np.arange(n_types)
    sel = type_of_code[e.unit] >= 0
    counts = np.zeros((n_types, q))
    counts[type_of_code[e.unit[sel]], e.cat[sel]] = e.count[sel]
    pairable = r >= 2
    s = np.einsum("tk,kl,tl->t", counts, w, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = np.where(pairable, (s - r) / (r * (r - 1.0)), 0.0)
    return KappaTables(units, of_unit, size, pairable, agree, counts / r[:, None], w, q)


def kappa_samples(
    coded: Coded,
    weights: Any = "identity",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
) -> dict[str, np.ndarray]:
    """Each interval coefficient on ``n_resamples`` stratified unit resamples
    (keyed as ``KAPPA_INTERVALS``; empty arrays when there is nothing to draw)."""
    tables = kappa_tables(coded, weights)
    if tables is None:
        return {name: np.zeros(0) for name in KAPPA_INTERVALS}
    rng = np.random.default_rng(seed)
    return tables.values(tables.draw(rng, n_resamples))


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
    does not decompose into; they get no interval here. Every unit with a
    rating is resampled, as the estimates use them (single-rated ones enter
    pi_k), pairable and single-rated units apart (``KappaTables.draw``), so
    percent agreement and Brennan-Prediger, which use pairable units only,
    are in effect a bootstrap of those. Intervals are nan when there are too
    many distinct unit types to draw cheaply.
    """
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name, values in kappa_samples(
        coded, weights, n_resamples=n_resamples, seed=seed
    ).items():
        values = values[np.isfinite(values)]
        out[name] = (
            tuple(float(x) for x in np.quantile(values, [tail, 1.0 - tail]))
            if len(values)
            else (math.nan, math.nan)
        )
    return out
