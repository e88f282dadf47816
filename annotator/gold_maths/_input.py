"""Input checks and integer coding shared by every rule (internal).

Unit and coder ids (any integers) become codes 0..n-1 by ``np.unique``; rows
are sorted by unit so per-unit sums are contiguous; a coder rating one unit
twice is an error (the Assignment constraint makes it impossible upstream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

METHODS = ("unanimous", "single", "majority", "model")
UNDECIDED = -1
TIE_EPS = 1e-12  # posteriors/shares closer than this count as equal


class GoldInputError(ValueError):
    """Bad ratings input: ragged columns, non-integer ids, value off the scale,
    a coder rating one unit twice, or an unknown method."""


@dataclass(frozen=True)
class Ratings:
    """Ratings sorted by unit, with units and coders coded 0..n-1."""

    unit: np.ndarray
    coder: np.ndarray
    value: np.ndarray
    unit_ids: np.ndarray
    coder_ids: np.ndarray
    n_categories: int
    n_ratings: np.ndarray  # per unit code
    starts: np.ndarray  # first row of each unit

    def with_values(self, value: np.ndarray, n_categories: int) -> Ratings:
        return Ratings(
            self.unit,
            self.coder,
            value,
            self.unit_ids,
            self.coder_ids,
            n_categories,
            self.n_ratings,
            self.starts,
        )


def int_column(x: Any, name: str) -> np.ndarray:
    """``x`` as a 1-D int64 array; integral floats pass, anything else is named."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise GoldInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == arr.round()).all():
        return arr.astype(np.int64)
    raise GoldInputError(
        f"{name} must be integer codes, got dtype {arr.dtype} (e.g. {arr.flat[0]!r})"
    )


def encode_ids(units: Any, coders: Any, n: int) -> tuple[np.ndarray, ...]:
    """(unit_ids, coder_ids, unit codes, coder codes, row order) sorted by unit."""
    u, c = int_column(units, "units"), int_column(coders, "coders")
    if len(u) != n or len(c) != n:
        raise GoldInputError(
            f"units, coders and values must have the same length "
            f"(got {len(u)}, {len(c)}, {n})"
        )
    unit_ids, ucode = np.unique(u, return_inverse=True)
    coder_ids, ccode = np.unique(c, return_inverse=True)
    ucode, ccode = ucode.ravel(), ccode.ravel()
    key = ucode * max(len(coder_ids), 1) + ccode
    order = np.argsort(key, kind="stable")
    sk = key[order]
    dup = np.flatnonzero(sk[1:] == sk[:-1])
    if len(dup):
        r = order[dup[0]]
        raise GoldInputError(f"coder {int(c[r])} rated unit {int(u[r])} more than once")
    return unit_ids, coder_ids, ucode[order], ccode[order], order


def finish(
    unit_ids: np.ndarray,
    coder_ids: np.ndarray,
    u: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    k: int,
) -> Ratings:
    """Ratings from coded columns already sorted by unit."""
    n_ratings = np.bincount(u, minlength=len(unit_ids))
    starts = np.concatenate(([0], np.cumsum(n_ratings)[:-1])).astype(np.int64)
    return Ratings(u, c, v, unit_ids, coder_ids, k, n_ratings, starts)


def encode(units: Any, coders: Any, values: Any, n_categories: int | None) -> Ratings:
    """Validate and code parallel rating columns; values must be 0..K-1."""
    v = int_column(values, "values")
    unit_ids, coder_ids, u, c, order = encode_ids(units, coders, len(v))
    v = v[order]
    if n_categories is None:
        n_categories = int(v.max()) + 1 if len(v) else 1
    if n_categories < 1:
        raise GoldInputError(f"n_categories must be >= 1, got {n_categories}")
    bad = np.flatnonzero((v < 0) | (v >= n_categories))
    if len(bad):
        raise GoldInputError(
            f"value {int(v[bad[0]])} is not a category code 0..{n_categories - 1}"
        )
    return finish(unit_ids, coder_ids, u, c, v, n_categories)
