"""The result record every agreement coefficient returns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AgreementResult:
    """One coefficient's value plus the counts a reader needs to judge it.

    ``value`` is ``nan`` when the coefficient is undefined (no unit with two
    ratings, or no variation to correct for chance). ``observed`` and
    ``expected`` are the two ingredients of the chance correction: for alpha
    the observed and expected *disagreement* D_o and D_e (alpha = 1 - D_o/D_e);
    for the kappa family the observed and chance *agreement* p_a and p_e
    (kappa = (p_a - p_e) / (1 - p_e)).
    """

    value: float
    coefficient: str
    n_units: int  # units used: with at least two ratings
    n_pairable: int  # ratings in the used units
    n_coders: int  # distinct coders in the input
    excluded_units: int  # units with exactly one rating
    observed: float = math.nan
    expected: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-friendly except that undefined values stay ``nan``)."""
        return asdict(self)


def ratio(num: float, den: float) -> float:
    """num / den, or nan when the denominator is zero or not finite."""
    if den == 0 or not math.isfinite(den) or not math.isfinite(num):
        return math.nan
    return float(num / den)
