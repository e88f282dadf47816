"""Sparse per-unit tables shared by alpha, the kappa family and bootstrap (internal).

A unit's ratings are summarised as *entries* ``(unit, category, count)``: how
many coders put that unit in that category. Within-unit *pairs* of entries give
the coincidence contributions of Krippendorff (2011) and the weighted
agreement counts of Gwet (2014), without a Python loop over units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._coding import DENSE_LIMIT, Coded, dense_table_ok, ratings_per_unit


@dataclass(frozen=True)
class Entries:
    """Non-zero unit-by-category counts, sorted by unit then category."""

    unit: np.ndarray
    cat: np.ndarray
    count: np.ndarray  # float64
    m: np.ndarray  # ratings per unit code (length n_units; 0 for absent units)
    q: int


def entries(c: Coded) -> Entries:
    """Count ratings per (unit, category) with one bincount (or one sort when huge).

    Cached on the (immutable) ``Coded``: alpha, the kappa family and the
    breakdowns of one report all start from the same table.
    """
    cached = c.__dict__.get("_entries")
    if cached is not None:
        return cached
    e = _entries(c)
    object.__setattr__(c, "_entries", e)  # a pure function of frozen fields
    return e


def _entries(c: Coded) -> Entries:
    m = ratings_per_unit(c)
    pairable = c.__dict__.get("_pairable")
    if pairable is None:
        return _count(c.unit, c.value, c.n_units, c.q, m)
    return _with_single_units(c, m, pairable)


def _with_single_units(c: Coded, m: np.ndarray, pairable: Entries) -> Entries:
    """The full table from the pairable one plus one entry per single-rated unit.

    Identical to counting every rating (same order: by unit, then category),
    but places each entry by a cumulative sum instead of tabulating
    units x categories cells, most of them empty when most units have one
    rating.
    """
    single = m == 1
    rows = single[c.unit]
    per_unit = np.bincount(pairable.unit, minlength=c.n_units)
    per_unit[single] = 1
    start = np.cumsum(per_unit)
    start -= per_unit
    total = int(per_unit.sum())
    unit = np.empty(total, dtype=np.int64)
    cat = np.empty(total, dtype=np.int64)
    count = np.empty(total, dtype=float)
    at = start[c.unit[rows]]
    unit[at], cat[at], count[at] = c.unit[rows], c.value[rows], 1.0
    first = np.searchsorted(pairable.unit, pairable.unit)  # entries sorted by unit
    at = start[pairable.unit] + (np.arange(len(pairable.unit)) - first)
    unit[at], cat[at], count[at] = pairable.unit, pairable.cat, pairable.count
    return Entries(unit, cat, count, m, max(c.q, 1))


def _count(
    unit: np.ndarray, value: np.ndarray, n_units: int, q: int, m: np.ndarray
) -> Entries:
    """Entries of these ratings, with ``m`` as the ratings per unit."""
    q = max(q, 1)
    key = unit * q + value
    cells = n_units * q
    if dense_table_ok(cells, len(key)):
        full = np.bincount(key, minlength=cells)
        nz = np.flatnonzero(full)
        cnt = full[nz]
    else:
        nz, cnt = np.unique(key, return_counts=True)
    unit, cat = np.divmod(nz, q)
    return Entries(unit, cat, cnt.astype(float), m, q)


def pairable_entries(c: Coded) -> Entries:
    """Entries of the units with >= 2 ratings (``m`` is 0 elsewhere), cached.

    Equal to ``keep_units(entries(c), entries(c).m >= 2)``. Taken from the full
    table when that is already built; otherwise counted from those units'
    ratings only, so alpha alone never tabulates the single-coded majority.
    """
    cached = c.__dict__.get("_pairable")
    if cached is not None:
        return cached
    full = c.__dict__.get("_entries")
    if full is not None:
        e = keep_units(full, full.m >= 2)
    else:
        m = ratings_per_unit(c)
        used = m >= 2
        rows = used[c.unit]
        e = _count(c.unit[rows], c.value[rows], c.n_units, c.q, np.where(used, m, 0))
    object.__setattr__(c, "_pairable", e)  # a pure function of frozen fields
    return e


def keep_units(e: Entries, unit_mask: np.ndarray) -> Entries:
    """Restrict entries to units where ``unit_mask`` (indexed by unit code) is true."""
    sel = unit_mask[e.unit]
    m = np.where(unit_mask, e.m, 0)
    return Entries(e.unit[sel], e.cat[sel], e.count[sel], m, e.q)


@dataclass(frozen=True)
class Pairs:
    """All ordered pairs (i, j) of entries of the same unit, including i == j."""

    unit: np.ndarray
    c: np.ndarray
    k: np.ndarray
    n_c: np.ndarray
    n_k: np.ndarray


def pairs(e: Entries) -> Pairs:
    """Expand each unit's d entries into its d*d ordered entry pairs (vectorised)."""
    n = len(e.unit)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Pairs(z, z, z, z.astype(float), z.astype(float))
    boundaries = np.flatnonzero(np.diff(e.unit)) + 1
    starts = np.concatenate(([0], boundaries))
    sizes = np.diff(np.concatenate((starts, [n])))
    d = np.repeat(sizes, sizes)  # entries in the unit of each entry
    first = np.repeat(starts, sizes)  # first entry of the unit of each entry
    left = np.repeat(np.arange(n), d)
    run_start = np.repeat(np.cumsum(d) - d, d)
    right = np.repeat(first, d) + (np.arange(len(left)) - run_start)
    return Pairs(e.unit[left], e.cat[left], e.cat[right], e.count[left], e.count[right])


def coincidence_weights(e: Entries, p: Pairs) -> np.ndarray:
    """Krippendorff's per-pair coincidence n_uc (n_uk - [c=k]) / (m_u - 1)."""
    same = (p.c == p.k).astype(float)
    return p.n_c * (p.n_k - same) / (e.m[p.unit] - 1.0)


def dense_ok(rows: int, cols: int) -> bool:
    """Whether a rows x cols float table is small enough to materialise."""
    return rows * cols <= DENSE_LIMIT // 4
