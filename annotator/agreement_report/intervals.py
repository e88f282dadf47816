"""A dimension's intervals: computed, in their stored JSON form, read back.

The page request computes them for small dimensions; above
``settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS`` pairable units they come
from the last finished background job (``annotator.services.agreement_jobs``).
Both go through ``compute`` (``dimension_intervals``: each coefficient by its
``interval_policy.METHOD``) and ``interval_set``, so an interval is the same
number whichever computed it (same seed, same data).

JSON form of one dimension, version 2 (NaN stored as null, JSON has none)::

    {"version": 2, "level": "nominal",
     "alpha": {"ci_low", "ci_high", "method", "holds", "reason", "confidence",
               "p_below": [[m, p], ...], "n_resamples", "n_valid", "seed"},
     "kappa": {"fleiss_kappa": {"ci_low", "ci_high", "method", "holds",
                                "reason"}, ...}}

Version 1 (no "version"; every interval a percentile one, the kappa family's
as [low, high]) is still read back, and ``agreement_jobs`` recomputes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from annotator.agreement import AgreementResult, BootstrapResult
from annotator.agreement.coded import AlphaParts
from annotator.agreement.interval_methods import Interval
from annotator.agreement.interval_policy import describe
from annotator.agreement.interval_set import (
    IntervalSet,
    dimension_intervals,
)
from annotator.agreement.interval_set import (
    resamples_drawn as resamples_drawn,
)

VERSION = 2

# Where a dimension's intervals came from, as the page and the API say it.
IN_REQUEST = "in_request"  # computed for this request (small dimensions)
CURRENT = "current"  # the background job's, computed from the data shown
STALE = "stale"  # the background job's, from older data: shown with their time
MISSING = "missing"  # none computed yet for this dimension

# The coefficients that get an interval (Conger's, Scott's and Cohen's do not).
WITH_INTERVALS = frozenset(
    {
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        "gwet_ac1",
        "gwet_ac2",
        "brennan_prediger",
    }
)

# progress(resamples done in this dimension): alpha's, then the kappa family's.
Progress = Callable[[int], None]


def _number(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _float(x: float | None) -> float:
    return math.nan if x is None else float(x)


def compute(
    parts: AlphaParts,
    weights: str,
    *,
    n_resamples: int,
    seed: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """One dimension's intervals (``dimension_intervals``) in the stored form."""
    return to_stored(
        dimension_intervals(
            parts, weights, n_resamples=n_resamples, seed=seed, progress=progress
        ),
        parts.level,
    )


def _entry(i: Interval) -> dict[str, Any]:
    return {
        "ci_low": _number(i.low),
        "ci_high": _number(i.high),
        "method": i.method,
        "holds": i.holds,
        "reason": i.reason,
    }


def to_stored(intervals: IntervalSet, level: str) -> dict[str, Any]:
    """An ``IntervalSet`` in the stored JSON form (version 2)."""
    alpha = intervals.intervals["krippendorff_alpha"]
    return {
        "version": VERSION,
        "level": level,
        "alpha": {
            **_entry(alpha),
            "confidence": intervals.confidence,
            "p_below": [[m, _number(p)] for m, p in intervals.p_below.items()],
            "n_resamples": intervals.n_resamples,
            "n_valid": intervals.n_valid,
            "seed": intervals.seed,
        },
        "kappa": {
            name: _entry(i)
            for name, i in intervals.intervals.items()
            if name != "krippendorff_alpha"
        },
    }


def _interval(entry: Mapping | list) -> Interval:
    """One stored interval; a version-1 one is [low, high] or alpha's bare
    ci_low/ci_high, both percentile."""
    if isinstance(entry, (list, tuple)):
        low, high = (_float(x) for x in entry)
        method, reason = "percentile", ""
    else:
        low, high = _float(entry["ci_low"]), _float(entry["ci_high"])
        method, reason = entry.get("method", "percentile"), entry.get("reason", "")
    holds = entry.get("holds") if isinstance(entry, Mapping) else None
    if holds is None:
        holds = math.isfinite(low) and math.isfinite(high)
    if not holds and not reason:
        reason = "no resample gave a defined value"
    return Interval(low, high, method, bool(holds), reason)


def interval_set(stored: Mapping) -> IntervalSet:
    """The stored form read back (either version)."""
    alpha = stored["alpha"]
    return IntervalSet(
        intervals={
            "krippendorff_alpha": _interval(alpha),
            **{name: _interval(e) for name, e in stored["kappa"].items()},
        },
        p_below={float(m): _float(p) for m, p in alpha["p_below"]},
        n_resamples=alpha["n_resamples"],
        n_valid=alpha["n_valid"],
        seed=alpha["seed"],
        confidence=alpha["confidence"],
    )


def alpha_result(
    estimate: AgreementResult, intervals: IntervalSet | None
) -> BootstrapResult:
    """Alpha's estimate with its interval (nan where it does not hold); without
    one, an interval of NaN from no resamples (shown as not computed yet)."""
    if intervals is None:
        return BootstrapResult(
            estimate=estimate,
            ci_low=math.nan,
            ci_high=math.nan,
            confidence=0.95,
            p_below={0.667: math.nan, 0.8: math.nan},
            n_resamples=0,
            n_valid=0,
            seed=None,
        )
    low, high = intervals.bounds()["krippendorff_alpha"]
    method = intervals.intervals["krippendorff_alpha"].method
    return BootstrapResult(
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=intervals.confidence,
        p_below=intervals.p_below,
        n_resamples=intervals.n_resamples,
        n_valid=intervals.n_valid,
        seed=intervals.seed,
        method=describe(method, intervals.n_resamples),
    )
