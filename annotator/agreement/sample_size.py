"""How many units a reliability sample needs: the pre-registration helper (pure).

Three answers, each naming its source (docs/design/reliability-report.md §7):

1. Krippendorff's minimum: Bloch & Kraemer (1989, eq. 3.7) as Krippendorff
   tabulates it (Content Analysis, 2nd ed. 2004, sec. 11.4.2, Table 11.4), with
   equally common categories (p_c = 1/q, the most favourable case), in
   pairable values of two coders.
2. Gwet's precision of percent agreement: Var(p_a) <= 1/(4n), so n = 1/E²
   units for a 95 % margin of error E (Gwet's AgreeStat blog, 6 May 2013,
   after ch. 5 of his Handbook); shown for E = .10 and .05.
3. This tool's own power answer: the smallest n for which the one-sided 95 %
   lower bound of alpha exceeds the minimum with probability ``power`` when the
   true alpha is the target, under the exchangeable coder model
   (``coder_model``) with equally common categories. sigma_1 = sqrt(n) SD(alpha)
   is estimated from seeded simulated studies, then
   n = ((z_.95 + z_power) sigma_1 / (target - minimum))².

The recommendation is the larger of (1) in units and (3), with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from .coder_model import Design, simulate
from .small_samples import pairable_values_needed

__all__ = ["GWET_MARGINS", "Plan", "pairable_values_needed", "plan", "power_units"]

GWET_MARGINS = (0.10, 0.05)
SIM_STUDIES = 2000
SIM_UNITS = 400
SIM_SEED = 20261206


@dataclass(frozen=True)
class Plan:
    """A sample-size answer; each part names its source."""

    target_alpha: float
    min_alpha: float
    n_categories: int
    coders: int
    krippendorff_values: int  # pairable values (Krippendorff 2004, Table 11.4)
    krippendorff_units: int  # units coded by two coders
    recommended_units: int
    reason: str
    p: float = 0.05
    power: float = 0.80
    gwet_units: tuple[tuple[float, int], ...] = ()  # (margin E, n = 1/E²)
    power_units: int | None = None  # None when target == minimum (no power answer)
    power_sigma: float | None = None  # sqrt(n) SD(alpha) from the simulation

    @property
    def recommended_text(self) -> str:
        return units_text(self.recommended_units)

    @property
    def krippendorff_text(self) -> str:
        more = (
            f" (the two-coder figure: with {self.coders} coders the book's rule "
            "is not verified here)"
            if self.coders > 2
            else ""
        )
        return (
            "Bloch and Kraemer's formula, which Krippendorff tabulates, asks for "
            f"{self.krippendorff_values:,} pairable "
            f"values ({self.krippendorff_units:,} units coded twice) to show "
            f"α ≥ {_coefficient(self.min_alpha)} with {self.n_categories} equally "
            f"common categories at p = {f'{self.p:g}'.removeprefix('0')}{more}."
        )

    @property
    def gwet_text(self) -> str:
        margins = " and ".join(
            f"{n:,} units for ±{_coefficient(e)}" for e, n in self.gwet_units
        )
        return (
            f"Gwet's precision rule (n = 1/E²) asks for {margins} on percent "
            "agreement (95 % margin of error)."
        )

    @property
    def power_text(self) -> str:
        if self.power_units is None:
            return (
                "No power answer: the target α equals the minimum, so no sample "
                "can show the one above the other."
            )
        return (
            f"With a true α of {_coefficient(self.target_alpha)}, "
            f"{units_text(self.power_units)} "
            f"{'gives' if self.power_units == 1 else 'give'} the 95 % lower "
            "bound above "
            f"{_coefficient(self.min_alpha)} with probability "
            f"{self.power:.0%} (this tool's simulation, {self.coders} coders, "
            f"equally common categories)."
        )


def units_text(n: int) -> str:
    """A count of units in words: "1 unit", "2,297 units"."""
    return f"{n:,} unit" + ("" if n == 1 else "s")


def _coefficient(x: float) -> str:
    return f"{x:.3f}".removeprefix("0")


def gwet_units(margin: float) -> int:
    """Units for a 95 % margin of error ``margin`` on percent agreement (1/E²)."""
    if not 0 < margin < 1:
        raise ValueError("margin: between 0 and 1")
    return math.ceil(round(1 / margin**2, 9))


def _alphas(values: np.ndarray, q: int) -> np.ndarray:
    """Nominal alpha of each study: ``values`` is studies x units x coders,
    complete (no missing ratings)."""
    studies, n, m = values.shape
    counts = np.zeros((studies, n, q))
    for c in range(q):
        counts[:, :, c] = (values == c).sum(axis=2)
    total = n * m
    observed = (counts * (counts - 1)).sum(axis=(1, 2)) / (m - 1)  # sum_c o_cc
    margins = counts.sum(axis=1)  # studies x q
    expected = (margins * (margins - 1)).sum(axis=1) / (total - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - (total - observed) / (total - expected)


@lru_cache(maxsize=256)
def power_sigma(target_alpha: float, n_categories: int, coders: int) -> float:
    """sqrt(n) times the SD of alpha-hat at the target, from seeded simulated
    studies (cached per argument tuple: the page asks again on every change)."""
    prior = (1 / n_categories,) * n_categories
    prior = prior[:-1] + (1 - sum(prior[:-1]),)
    design = Design(SIM_STUDIES * SIM_UNITS, coders, prior, target_alpha)
    rng = np.random.default_rng([SIM_SEED, n_categories, coders])
    _, _, values = simulate(design, rng)  # no missing: rows are unit-major
    alphas = _alphas(values.reshape(SIM_STUDIES, SIM_UNITS, coders), n_categories)
    return float(np.nanstd(alphas, ddof=1) * math.sqrt(SIM_UNITS))


def power_units(
    target_alpha: float,
    min_alpha: float,
    n_categories: int,
    coders: int = 2,
    power: float = 0.80,
) -> tuple[int | None, float | None]:
    """(units, sigma_1) for the power answer; both None when target == minimum."""
    if target_alpha <= min_alpha:
        return None, None
    sigma = power_sigma(round(target_alpha, 6), n_categories, coders)
    z = NormalDist().inv_cdf(0.95) + NormalDist().inv_cdf(power)
    return math.ceil((z * sigma / (target_alpha - min_alpha)) ** 2), sigma


def plan(
    target_alpha: float,
    min_alpha: float,
    n_categories: int,
    coders: int = 2,
    p: float = 0.05,
    power: float = 0.80,
) -> Plan:
    """The units a sample needs to show alpha >= ``min_alpha`` (see module)."""
    if n_categories < 2:
        raise ValueError("n_categories: at least 2 categories are needed")
    if not 0 < min_alpha <= target_alpha < 1:
        raise ValueError("min_alpha and target_alpha: 0 < minimum <= target < 1")
    if coders < 2:
        raise ValueError("coders: at least 2 coders are needed")
    if not 0 < p < 0.5 or not 0.5 <= power < 1:
        raise ValueError("p and power: 0 < p < .5 and .5 <= power < 1")
    z = NormalDist().inv_cdf(1 - p)
    values = pairable_values_needed(min_alpha, 1 / n_categories, z)
    n_units = math.ceil(values / 2)
    by_power, sigma = power_units(target_alpha, min_alpha, n_categories, coders, power)
    if by_power is not None and by_power > n_units:
        recommended = by_power
        reason = (
            f"the power answer ({units_text(by_power)}) asks for more than "
            f"Krippendorff's minimum ({units_text(n_units)})"
        )
    else:
        recommended = n_units
        reason = "Krippendorff's minimum for equally common categories" + (
            f" asks for more than the power answer ({units_text(by_power)})"
            if by_power is not None
            else ""
        )
    return Plan(
        target_alpha=target_alpha,
        min_alpha=min_alpha,
        n_categories=n_categories,
        coders=coders,
        krippendorff_values=values,
        krippendorff_units=n_units,
        recommended_units=recommended,
        reason=reason,
        p=p,
        power=power,
        gwet_units=tuple((e, gwet_units(e)) for e in GWET_MARGINS),
        power_units=by_power,
        power_sigma=sigma,
    )
