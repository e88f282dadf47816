"""Sparse per-unit tables shared by alpha, the kappa family and bootstrap (internal).

A unit's ratings are summarised as *entries* ``(unit, category, count)``: how
many coders put that unit in that category. Within-unit *pairs* of entries give
the coincidence contributions of Krippendorff (2011) and the weighted
agreement counts of Gwet (2014), without a Python loop over units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._coding import DENSE_LIMIT, Coded, dense_table_ok


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
    q = max(c.q, 1)
    key = c.unit * q + c.value
    cells = c.n_units * q
    if dense_table_ok(cells, len(key)):
        full = np.bincount(key, minlength=cells)
        nz = np.flatnonzero(full)
        cnt = full[nz]
    else:
        nz, cnt = np.unique(key, return_counts=True)
    unit, cat = np.divmod(nz, q)
    m = np.bincount(c.unit, minlength=c.n_units)
    return Entries(unit, cat, cnt.astype(float), m, q)


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
