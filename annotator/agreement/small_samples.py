"""Which units each coefficient rests on, and when a sample is too small to trust.

Pure Python, no Django: the report and its tests ask the same rule.
"""

from __future__ import annotations

import math
from typing import Literal

Basis = Literal["pairable", "coded"]

# The units a coefficient's point estimate uses (and so its bootstrap
# resamples). "pairable": units coded by two or more coders only (alpha, and
# coefficients whose chance term needs no marginals or takes them from the
# shared units: percent agreement, Brennan-Prediger, Cohen). "coded": p_a from
# the pairable units, but the chance term from every coded unit, single-coded
# ones included (Gwet 2014, ch. 2-4, as irrCAC computes them): Fleiss' and
# Gwet's pi_k average every coded unit, Conger's and Scott's coder marginals
# take each coder's every rating.
UNIT_BASIS: dict[str, Basis] = {
    "krippendorff_alpha": "pairable",
    "percent_agreement": "pairable",
    "brennan_prediger": "pairable",
    "cohen_kappa": "pairable",
    "fleiss_kappa": "coded",
    "conger_kappa": "coded",
    "scott_pi": "coded",
    "gwet_ac1": "coded",
    "gwet_ac2": "coded",
}

# Fewest units coded by two or more coders for which the page prints an
# interval as such and gives a verdict. Krippendorff (2004), Content Analysis,
# 2nd ed., sec. 11.4.2 and Table 11.4, after Bloch & Kraemer (1989, eq. 3.7):
# to show alpha >= .667 at p = .05 with two coders, even the most favourable
# variable (two equally common categories, p_c = .5) needs 60 pairable values,
# i.e. 30 units coded twice (``pairable_values_needed(0.667, 0.5)``); rarer
# categories need more. Below it the bootstrap has too few distinct resamples
# for its percentiles to mean much, and the plug-in chance term's bias can put
# the estimate outside its own percentile interval.
MIN_PAIRABLE_UNITS = 30

# One-sided normal quantile for p = .05 (Krippendorff's Table 11.4 column).
Z_05 = 1.6448536269514722


def pairable_values_needed(alpha_min: float, p_c: float, z: float = Z_05) -> int:
    """Bloch & Kraemer's (1989) required number of pairable values for two coders,
    as Krippendorff (2004, Table 11.4) tabulates it: the smallest sample whose
    alpha can be shown to exceed ``alpha_min`` at the level of ``z`` when the
    rarest category has share ``p_c``."""
    if not (0 < alpha_min < 1 and 0 < p_c < 1):
        raise ValueError("alpha_min and p_c must lie strictly between 0 and 1")
    a = alpha_min
    need = 2 * z**2 * ((1 + a) * (3 - a) / (4 * (1 - a) * p_c * (1 - p_c)) - a)
    return math.ceil(need)


def too_few_units(n_pairable_units: int) -> bool:
    """Whether a figure rests on fewer double-coded units than MIN_PAIRABLE_UNITS."""
    return n_pairable_units < MIN_PAIRABLE_UNITS


def interval_holds(
    value: float, low: float, high: float, n_pairable_units: int
) -> bool:
    """Whether a percentile interval may be printed as an interval for ``value``.

    A percentile interval can legitimately miss its own estimate: the plug-in
    chance terms are convex (Fleiss' sum pi_k^2) or concave (Gwet's
    sum pi_k (1 - pi_k)) in the resampled shares, so their resamples are biased
    to one side, and with few pairable units p_a takes only a few values and
    cannot outweigh that bias. Such an interval, or one from too few units,
    is not shown as if it held.
    """
    if not all(math.isfinite(x) for x in (value, low, high)):
        return False
    return not too_few_units(n_pairable_units) and low <= value <= high
