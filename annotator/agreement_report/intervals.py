"""A dimension's bootstrap intervals: computed, in their stored JSON form, read back.

The page request computes them for small dimensions; above
``settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS`` pairable units they come
from the last finished background job (``annotator.services.agreement_jobs``).
Both go through ``compute`` and ``alpha_result``/``kappa_intervals``, so an
interval is the same number whichever computed it (same seed, same data).

JSON form of one dimension (NaN stored as null, JSON has none)::

    {"level": "nominal",
     "alpha": {"ci_low", "ci_high", "confidence", "p_below": [[m, p], ...],
               "n_resamples", "n_valid", "seed"},
     "kappa": {"fleiss_kappa": [low, high], "gwet_ac1": [low, high], ...}}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from annotator.agreement import AgreementResult, BootstrapResult
from annotator.agreement.coded import (
    AlphaParts,
    bootstrap_from_parts,
    bootstrap_kappa_family,
)

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
    family: Mapping[str, AgreementResult],
    *,
    n_resamples: int,
    seed: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Both bootstraps of one dimension, in the stored form. ``family`` is
    ``kappa_family``'s answer (it names Gwet's coefficient AC1 or AC2)."""
    boot = bootstrap_from_parts(
        parts, n_resamples=n_resamples, seed=seed, progress=progress
    )
    kappa = bootstrap_kappa_family(
        parts.coded, weights, n_resamples=n_resamples, seed=seed
    )
    if progress is not None:
        progress(2 * n_resamples)
    return {
        "level": parts.level,
        "alpha": {
            "ci_low": _number(boot.ci_low),
            "ci_high": _number(boot.ci_high),
            "confidence": boot.confidence,
            "p_below": [[m, _number(p)] for m, p in boot.p_below.items()],
            "n_resamples": boot.n_resamples,
            "n_valid": boot.n_valid,
            "seed": seed,
        },
        "kappa": {
            family[name].coefficient: [_number(low), _number(high)]
            for name, (low, high) in kappa.items()
        },
    }


def alpha_result(estimate: AgreementResult, stored: Mapping | None) -> BootstrapResult:
    """Alpha's estimate with the stored interval; without one, an interval of
    NaN from no resamples (what the page shows as not computed yet)."""
    if stored is None:
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
    return BootstrapResult(
        estimate=estimate,
        ci_low=_float(stored["ci_low"]),
        ci_high=_float(stored["ci_high"]),
        confidence=stored["confidence"],
        p_below={float(m): _float(p) for m, p in stored["p_below"]},
        n_resamples=stored["n_resamples"],
        n_valid=stored["n_valid"],
        seed=stored["seed"],
    )


def kappa_intervals(stored: Mapping | None) -> dict[str, tuple[float, float]]:
    """The kappa family's intervals keyed by coefficient; none without a result."""
    if stored is None:
        return {}
    return {name: (_float(low), _float(high)) for name, (low, high) in stored.items()}
