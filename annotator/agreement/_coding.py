"""Input validation and integer coding shared by every coefficient (internal).

Every public function takes three parallel sequences -- ``units``, ``coders``,
``values`` -- one entry per rating. This module turns them into integer codes
(``np.unique`` once per column) and an ordered category scale, so that the
coefficients themselves only ever see small integer arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .uniques import code_integers

LEVELS = ("nominal", "ordinal", "interval", "ratio", "set")
_SETLIKE = (frozenset, set, list, tuple)
# Above this many cells a dense bincount table is replaced by a sort (np.unique).
DENSE_LIMIT = 50_000_000


class RatingsInputError(ValueError):
    """Bad ratings input: malformed CSV row, value off the scale, duplicate rating."""


@dataclass(frozen=True)
class Coded:
    """Ratings as integer codes plus the ordered category scale they index."""

    unit: np.ndarray  # int64 unit code per rating
    coder: np.ndarray  # int64 coder code per rating
    value: np.ndarray  # int64 position on the category scale per rating
    unit_labels: np.ndarray
    coder_labels: np.ndarray
    categories: tuple[Any, ...]  # ordered scale; frozensets for set-valued data
    numeric: np.ndarray | None  # float value of each category when all are numbers
    is_set: bool = False
    kept: np.ndarray | None = (
        None  # input rows kept (None: all); missing values drop rows
    )

    @property
    def n_units(self) -> int:
        return len(self.unit_labels)

    @property
    def n_coders(self) -> int:
        return len(self.coder_labels)

    @property
    def q(self) -> int:
        return len(self.categories)

    def positions(self) -> np.ndarray:
        """Numeric value of each category, else its 1-based position on the scale."""
        if self.numeric is not None:
            return self.numeric
        return np.arange(1, self.q + 1, dtype=float)


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _parse_float(v: Any) -> float | None:
    """Return ``v`` as a finite float if it is (or spells) a number, else None."""
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
    elif isinstance(v, (str, np.str_)):
        try:
            f = float(v.strip())
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def _numeric_or_none(labels: Sequence[Any]) -> np.ndarray | None:
    parsed = [_parse_float(v) for v in labels]
    if any(p is None for p in parsed):
        return None
    return np.asarray(parsed, dtype=float)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _code_column(x: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise RatingsInputError(f"{name} must be one-dimensional")
    if arr.dtype.kind == "O":
        if any(_is_missing(v) for v in arr):
            raise RatingsInputError(f"{name} contains a missing entry")
        try:
            labels, inv = np.unique(arr, return_inverse=True)
        except TypeError:  # mixed, unorderable types: compare as text
            labels, inv = np.unique(arr.astype(str), return_inverse=True)
    elif arr.dtype.kind in "iu" and len(arr):
        return code_integers(arr)
    else:
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise RatingsInputError(f"{name} contains a missing entry")
        labels, inv = np.unique(arr, return_inverse=True)
    return labels, inv.ravel().astype(np.int64)


def _looks_like_sets(values: Any) -> bool:
    if isinstance(values, np.ndarray) and values.dtype.kind != "O":
        return False
    return any(isinstance(v, _SETLIKE) for v in values)


def _canonical_set(v: Any) -> frozenset:
    if isinstance(v, (str, np.str_)):
        return frozenset([str(v)])
    if isinstance(v, _SETLIKE):
        return frozenset(_plain(x) for x in v)
    return frozenset([_plain(v)])


def _set_order_key(s: frozenset, label_rank: dict) -> tuple:
    return (len(s), sorted(label_rank.get(x, (1, str(x))) for x in s))


def _code_sets(values: Sequence[Any], categories: Sequence[Any] | None):
    keep = np.array([not _is_missing(v) for v in values], dtype=bool)
    seen: dict[frozenset, int] = {}
    codes = np.empty(int(keep.sum()), dtype=np.int64)
    j = 0
    for v, k in zip(values, keep, strict=True):
        if k:
            codes[j] = seen.setdefault(_canonical_set(v), len(seen))
            j += 1
    found = list(seen)
    if categories is not None:
        vocab = list(categories)
        rank = {lab: (0, i) for i, lab in enumerate(vocab)}
        for s in found:
            for lab in s:
                if lab not in rank:
                    raise RatingsInputError(
                        f"label {lab!r} is not one of the declared categories"
                    )
    else:
        labels = sorted(
            {lab for s in found for lab in s}, key=lambda x: (str(type(x)), x)
        )
        rank = {lab: (0, i) for i, lab in enumerate(labels)}
    order = sorted(range(len(found)), key=lambda i: _set_order_key(found[i], rank))
    remap = np.empty(len(found), dtype=np.int64)
    remap[order] = np.arange(len(found))
    cats = tuple(found[i] for i in order)
    return keep, remap[codes] if len(codes) else codes, cats


def _code_scalars(arr: np.ndarray, categories: Sequence[Any] | None):
    if arr.dtype.kind == "O":
        keep = np.array([not _is_missing(v) for v in arr], dtype=bool)
        arr = arr[keep]
        if all(isinstance(v, (int, float, np.number)) for v in arr):
            arr = arr.astype(float)
        else:
            arr = np.array([str(v) if not isinstance(v, str) else v for v in arr])
    elif arr.dtype.kind in "fc":
        keep = ~np.isnan(arr)
        arr = arr[keep]
    else:
        keep = np.ones(len(arr), dtype=bool)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind in "iu" and len(arr):
        uniq, inv = code_integers(arr)
    else:
        uniq, inv = np.unique(arr, return_inverse=True)
    inv = inv.ravel().astype(np.int64)
    uniq_list = uniq.tolist()
    if categories is None:
        if uniq.dtype.kind in "iuf":
            numeric = uniq.astype(float) if np.isfinite(uniq).all() else None
        else:
            numeric = _numeric_or_none(uniq_list)
        if numeric is not None and arr.dtype.kind in "US":
            # Numeric text: order by number and merge spellings of one number
            # ("1", "1.0", " 1"), which are one value on every level of measurement.
            vals, first, merged = np.unique(
                numeric, return_index=True, return_inverse=True
            )
            labels = tuple(uniq_list[i] for i in first)
            return keep, merged.ravel().astype(np.int64)[inv], labels, vals
        return keep, inv, tuple(uniq_list), numeric
    cats = tuple(_plain(c) for c in categories)
    if len(set(cats)) != len(cats):
        raise RatingsInputError("categories contain duplicates")
    numeric = _numeric_or_none(cats)
    exact = {c: i for i, c in enumerate(cats)}
    text = {str(c): i for i, c in enumerate(cats)}
    num = {} if numeric is None else {f: i for i, f in enumerate(numeric)}
    lookup = np.empty(len(uniq_list), dtype=np.int64)
    for j, u in enumerate(uniq_list):
        i = exact.get(u)
        if i is None:
            f = _parse_float(u)
            i = num.get(f) if f is not None else None
        if i is None:
            i = text.get(str(u))
        if i is None:
            raise RatingsInputError(
                f"value {u!r} is not one of the declared categories"
            )
        lookup[j] = i
    return keep, lookup[inv], cats, numeric


def dense_table_ok(cells: int, n: int) -> bool:
    """Whether a bincount table of ``cells`` int64 counts for ``n`` keys is cheap.

    A dense table is faster than sorting while it is not much larger than the
    data; a sparse one (a million units x 50 coders for a million ratings)
    would cost hundreds of MB, so above that a sort (np.unique) is used.
    """
    return cells <= DENSE_LIMIT and cells <= max(8 * n, 1_000_000)


def check_level(level: str) -> str:
    """Validate a level-of-measurement name."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    return level


def encode(
    units: Any,
    coders: Any,
    values: Any,
    *,
    level: str = "auto",
    categories: Sequence[Any] | None = None,
    check_duplicates: bool = True,
) -> Coded:
    """Validate parallel rating columns and code them as integers on an ordered scale.

    ``level="auto"`` treats frozenset/set/list/tuple values as set-valued
    categories (one category per distinct set) and anything else as scalars.
    Missing values (None / NaN) are dropped: a missing rating is an absent row.
    """
    if not isinstance(values, np.ndarray):
        values = list(values)
    n = len(values)
    if len(units) != n or len(coders) != n:
        raise RatingsInputError(
            f"units, coders and values must have the same length "
            f"(got {len(units)}, {len(coders)}, {n})"
        )
    is_set = level == "set" or (level == "auto" and _looks_like_sets(values))
    if is_set:
        keep, vcodes, cats = _code_sets(values, categories)
        numeric = None
    else:
        arr = values if isinstance(values, np.ndarray) else np.asarray(values)
        if arr.ndim != 1:
            raise RatingsInputError(
                "values must be one-dimensional (use level='set' for sets)"
            )
        keep, vcodes, cats, numeric = _code_scalars(arr, categories)
    units_a = np.asarray(units)
    coders_a = np.asarray(coders)
    if not keep.all():
        units_a, coders_a = units_a[keep], coders_a[keep]
    ulabels, ucodes = _code_column(units_a, "units")
    clabels, ccodes = _code_column(coders_a, "coders")
    kept = None if keep.all() else keep
    coded = Coded(ucodes, ccodes, vcodes, ulabels, clabels, cats, numeric, is_set, kept)
    if check_duplicates:
        _check_duplicates(coded)
    return coded


def ratings_per_unit(c: Coded) -> np.ndarray:
    """m_u, the number of ratings of each unit code (cached: ``Coded`` is frozen)."""
    m = c.__dict__.get("_m")
    if m is None:
        m = np.bincount(c.unit, minlength=c.n_units)
        object.__setattr__(c, "_m", m)  # a pure function of frozen fields
    return m


def _check_duplicates(c: Coded) -> None:
    if len(c.unit) == 0:
        return
    # Only a unit rated more than once can hold a duplicate: with most units
    # single-coded, checking those ratings alone spares a sort of all of them.
    multi = ratings_per_unit(c)[c.unit] >= 2
    key = c.unit[multi] * max(c.n_coders, 1) + c.coder[multi]
    cells = c.n_units * max(c.n_coders, 1)
    if dense_table_ok(cells, len(key)):
        counts = np.bincount(key, minlength=cells)
        bad = np.flatnonzero(counts > 1)
    else:
        uk, counts = np.unique(key, return_counts=True)
        bad = uk[counts > 1]
    if len(bad):
        u, k = divmod(int(bad[0]), max(c.n_coders, 1))
        raise RatingsInputError(
            f"coder {_plain(c.coder_labels[k])!r} rated unit "
            f"{_plain(c.unit_labels[u])!r} more than once"
        )


def subset(c: Coded, mask: np.ndarray) -> Coded:
    """Keep the ratings selected by ``mask``; codes and the scale are unchanged."""
    return Coded(
        c.unit[mask],
        c.coder[mask],
        c.value[mask],
        c.unit_labels,
        c.coder_labels,
        c.categories,
        c.numeric,
        c.is_set,
        None,
    )


def plain(v: Any) -> Any:
    """Turn a numpy scalar label into the equivalent Python object."""
    return _plain(v)


def plain_labels(values: Any) -> tuple[Any, ...]:
    """Numpy labels (coders, categories, groups) as a tuple of Python objects."""
    return tuple(_plain(v) for v in values)
