"""The simple rules: unanimous, single, majority."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._input import METHODS, TIE_EPS, UNDECIDED, GoldInputError, Ratings, encode
from .result import GoldDecisions, empty


@dataclass(frozen=True)
class Tally:
    """Distinct (unit, value) pairs with counts, sorted by unit then value."""

    unit: np.ndarray
    value: np.ndarray
    count: np.ndarray


def tally(r: Ratings) -> Tally:
    """Count each (unit, value) pair once, by one sort: sparse, so a scale of
    many categories costs nothing extra."""
    k = r.n_categories
    keys, counts = np.unique(r.unit * k + r.value, return_counts=True)
    return Tally(keys // k, keys % k, counts)


def decide(
    r: Ratings, mask: np.ndarray, value: np.ndarray, method: str
) -> GoldDecisions:
    """Decisions taking ``value`` with ``method`` where ``mask``, else undecided."""
    d = empty(r)
    d.values[mask] = value[mask]
    d.methods[mask] = METHODS.index(method)
    return d


def unanimous_coded(r: Ratings, t: Tally) -> GoldDecisions:
    n_distinct = np.bincount(t.unit, minlength=len(r.unit_ids))
    value = np.full(len(r.unit_ids), UNDECIDED, np.int64)
    value[t.unit] = t.value  # the only entry where n_distinct == 1
    return decide(r, (r.n_ratings >= 2) & (n_distinct == 1), value, "unanimous")


def single_coded(r: Ratings) -> GoldDecisions:
    value = np.full(len(r.unit_ids), UNDECIDED, np.int64)
    value[r.unit] = r.value
    return decide(r, r.n_ratings == 1, value, "single")


def majority_coded(
    r: Ratings, t: Tally, min_share: float, inclusive: bool, min_ratings: int
) -> GoldDecisions:
    if not 0.0 <= min_share < 1.0:
        raise GoldInputError(f"min_share must be in [0, 1), got {min_share}")
    n_units = len(r.unit_ids)
    if len(t.unit) == 0:
        return empty(r)
    starts = np.flatnonzero(np.r_[True, t.unit[1:] != t.unit[:-1]])
    top = np.maximum.reduceat(t.count, starts)  # per unit (all units have entries)
    is_top = t.count == top[t.unit]
    n_top = np.bincount(t.unit[is_top], minlength=n_units)
    value = np.full(n_units, UNDECIDED, np.int64)
    value[t.unit[is_top]] = t.value[is_top]
    share = top / r.n_ratings
    enough = share >= min_share - TIE_EPS if inclusive else share > min_share + TIE_EPS
    mask = (n_top == 1) & enough & (r.n_ratings >= min_ratings)
    return decide(r, mask, value, "majority")


def unanimous(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
) -> GoldDecisions:
    """Decide every unit with at least two ratings that are all equal.

    Why two: one rating agrees with itself trivially; that case is ``single``,
    a weaker provenance the export must be able to tell apart.
    """
    r = encode(units, coders, values, None)
    return unanimous_coded(r, tally(r))


def single(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
) -> GoldDecisions:
    """Decide every unit with exactly one rating by that rating.

    Why: outside the reliability sample a span is coded once by design, and its
    only rating is the best evidence there is (agreement on the sample is what
    vouches for it).
    """
    return single_coded(encode(units, coders, values, None))


def majority(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    *,
    min_share: float = 0.5,
    inclusive: bool = False,
    min_ratings: int = 2,
) -> GoldDecisions:
    """Decide a unit by its modal value if that mode is unique and its share of
    the unit's ratings is strictly above ``min_share`` (at least, with
    ``inclusive=True``); units with fewer than ``min_ratings`` ratings and
    ties for the mode stay undecided.

    Why strict by default: ``min_share=0.5`` then means an absolute majority
    (2 of 3, 3 of 4, never 2 of 4), the classic rule, and makes the mode unique
    by itself; "at least" suits quota rules like two thirds (2 of 3 passes
    ``min_share=2/3, inclusive=True``). ``min_share=0`` gives a plurality rule
    with ties undecided. Shares within 1e-12 of ``min_share`` count as equal so
    2/3 is not lost to rounding. Source: the usual majority-vote baseline of
    label aggregation, e.g. Snow et al. (2008), EMNLP, 254-263.
    """
    r = encode(units, coders, values, None)
    return majority_coded(r, tally(r), min_share, inclusive, min_ratings)
