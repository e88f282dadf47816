"""``np.unique`` for integer keys, without the sort where a table or order allows.

Ids, unit codes and unit-type keys are integers whose range is rarely much
wider than their number, or arrive already sorted; these give exactly what
``np.unique`` gives (same labels, same numbering) in one or two linear passes.
"""

from __future__ import annotations

import numpy as np


def code_integers(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(arr, return_inverse=True)`` for integers, by a lookup table when
    their range is not much wider than their number (database ids usually are):
    one scatter, one cumulative sum and one gather instead of a sort."""
    low, high = int(arr.min()), int(arr.max())
    if high - low >= 4 * len(arr) + 1_000:
        labels, inv = np.unique(arr, return_inverse=True)
        return labels, inv.ravel().astype(np.int64)
    offset = arr - low if low else arr
    seen = np.zeros(high - low + 1, dtype=bool)
    seen[offset] = True
    code = np.cumsum(seen, dtype=np.int64)
    code -= 1
    labels = (np.flatnonzero(seen) + low).astype(arr.dtype)
    return labels, code[offset]


def sorted_runs(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` for already sorted ``x`` (entries are
    sorted by unit), without sorting again."""
    if len(sorted_keys) == 0:
        return sorted_keys, np.zeros(0, dtype=np.int64)
    new = np.empty(len(sorted_keys), dtype=bool)
    new[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=new[1:])
    return sorted_keys[new], np.cumsum(new) - 1


def first_and_inverse(key: np.ndarray, small: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_index=True, return_inverse=True)[1:]`` for keys
    >= 0, most of them below ``small``.

    Units with one entry (every single-rated unit, every unanimous one) have
    a key below ``small``: those are tabulated, and only the others sorted.
    Every small key sorts before every large one, so type ids come out as
    np.unique numbers them.
    """
    low = key < small
    at_low, at_high = np.flatnonzero(low), np.flatnonzero(~low)
    first_low = np.full(small, len(key), dtype=np.int64)
    np.minimum.at(first_low, key[at_low], at_low)
    present = np.flatnonzero(first_low < len(key))
    type_low = np.full(small, -1, dtype=np.int64)
    type_low[present] = np.arange(len(present))
    _, first_high, inverse_high = np.unique(
        key[at_high], return_index=True, return_inverse=True
    )
    of_unit = np.empty(len(key), dtype=np.int64)
    of_unit[at_low] = type_low[key[at_low]]
    of_unit[at_high] = inverse_high.ravel() + len(present)
    return np.concatenate([first_low[present], at_high[first_high]]), of_unit
