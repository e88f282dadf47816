"""How many units a reliability sample needs: the pre-registration helper (pure).

Part one of docs/design/reliability-report.md §7 (Krippendorff's minimum after
Bloch & Kraemer 1989, eq. 3.7, with equally common categories, the most
favourable case); Gwet's precision and the power answer are added by WP5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .small_samples import pairable_values_needed


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

    @property
    def krippendorff_text(self) -> str:
        return (
            f"Krippendorff's table asks for {self.krippendorff_values:,} pairable "
            f"values ({self.krippendorff_units:,} units coded twice) to show "
            f"α ≥ {_coefficient(self.min_alpha)} with {self.n_categories} equally "
            "common categories at p = .05."
        )


def _coefficient(x: float) -> str:
    return f"{x:.3f}".removeprefix("0")


def plan(
    target_alpha: float, min_alpha: float, n_categories: int, coders: int = 2
) -> Plan:
    """The units a sample needs to show alpha >= ``min_alpha`` (see module)."""
    if n_categories < 2:
        raise ValueError("n_categories: at least 2 categories are needed")
    if not 0 < min_alpha <= target_alpha < 1:
        raise ValueError("min_alpha and target_alpha: 0 < minimum <= target < 1")
    values = pairable_values_needed(min_alpha, 1 / n_categories)
    units = math.ceil(values / 2)
    return Plan(
        target_alpha=target_alpha,
        min_alpha=min_alpha,
        n_categories=n_categories,
        coders=coders,
        krippendorff_values=values,
        krippendorff_units=units,
        recommended_units=units,
        reason="Krippendorff's minimum for equally common categories",
    )
