"""Every published interval of one dimension, each by its coefficient's method.

The one place the report, the background job, the API and the CLI get their
intervals from: each resample set is drawn once (alpha's, the kappa family's),
every method is read off it (``intervals_by_method``), and each coefficient
keeps the method ``interval_policy.METHOD`` names. Alpha's ``p_below`` (the
share of resamples below Krippendorff's minimums) comes from the same draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alpha import AlphaParts
from .bootstrap import bootstrap_from_parts
from .interval_methods import Interval
from .interval_policy import METHOD, made_by
from .intervals_by_method import (
    KAPPA_METHODS,
    RESAMPLED,
    alpha_from_resamples,
    kappa_family_intervals,
)
from .metrics import is_identity

MINIMUMS = (0.667, 0.8)  # Krippendorff (2004, p. 241): tentative, reliable
RESAMPLING = "units with 2+ ratings; single-coded units drawn apart"


@dataclass(frozen=True)
class IntervalSet:
    """Per coefficient its ``Interval`` (``method`` as ``METHOD`` says; when it
    does not hold, ``reason`` says why), with how they were drawn."""

    intervals: dict[str, Interval]
    p_below: dict[float, float]  # alpha < minimum, share of its defined resamples
    n_resamples: int
    n_valid: int  # alpha's resamples where alpha was defined
    seed: int | None
    confidence: float = 0.95
    resampling: str = field(default=RESAMPLING)

    @property
    def methods(self) -> dict[str, str]:
        """coefficient -> method name."""
        return {name: i.method for name, i in self.intervals.items()}

    @property
    def notes(self) -> dict[str, str]:
        """coefficient -> why its interval is withheld, or the fallback it took."""
        return {name: i.reason for name, i in self.intervals.items() if i.reason}

    def bounds(self) -> dict[str, tuple[float, float]]:
        """coefficient -> (low, high); nan where the interval does not hold."""
        return {
            name: (i.low, i.high) if i.holds else (math.nan, math.nan)
            for name, i in self.intervals.items()
        }


def gwet_name(weights: Any) -> str:
    """Gwet's coefficient as the kappa family names it for ``weights``."""
    return "gwet_ac1" if is_identity(weights) else "gwet_ac2"


# The kappa family's methods the policy reads (each entry and what it may name).
KAPPA_POLICY_METHODS = tuple(
    m
    for m in KAPPA_METHODS
    if any(
        m == METHOD[name] or m in made_by(METHOD[name])
        for name in METHOD
        if name != "krippendorff_alpha"
    )
)
# Whether the kappa family's unit bootstrap is drawn at all: the policy's
# methods may need none of its resamples (log-jackknife and score do not).
KAPPA_RESAMPLED = not RESAMPLED.isdisjoint(KAPPA_POLICY_METHODS)


def resamples_drawn(n_resamples: int) -> int:
    """The resamples one dimension's intervals draw, as ``progress`` counts them:
    alpha's (also for P(alpha < minimum)), and the kappa family's if needed."""
    return n_resamples * (2 if KAPPA_RESAMPLED else 1)


def dimension_intervals(
    parts: AlphaParts,
    weights: Any,
    *,
    n_resamples: int,
    seed: int | None,
    confidence: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> IntervalSet:
    """Alpha's and the kappa family's intervals of one coded dimension.

    ``progress(done)`` counts resamples: alpha's as they are drawn, then the
    kappa family's all at once where it draws any (``resamples_drawn``)."""
    boot = bootstrap_from_parts(
        parts,
        n_resamples=n_resamples,
        seed=seed,
        minimums=MINIMUMS,
        confidence=confidence,
        progress=progress,
    )
    alpha = alpha_from_resamples(parts, boot.samples, seed=seed, confidence=confidence)
    kappa = kappa_family_intervals(
        parts.coded,
        weights,
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
        methods=KAPPA_POLICY_METHODS,
    )
    if progress is not None:
        progress(resamples_drawn(n_resamples))
    by_name = {"krippendorff_alpha": alpha}
    for name, methods in kappa.items():
        by_name[gwet_name(weights) if name == "gwet" else name] = methods
    return IntervalSet(
        intervals={name: by_name[name][METHOD[name]] for name in by_name},
        p_below=boot.p_below,
        n_resamples=n_resamples,
        n_valid=boot.n_valid,
        seed=seed,
        confidence=confidence,
    )
