"""The reliability report's tables as text cells: one model for every print format.

The print HTML (and so the PDF), the Markdown and the LaTeX all draw these
``Table`` records, so a figure reads the same in each (the PDF test extracts
them as ``figure`` writes them). Reads ``ReliabilityReport`` only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .intervals import WITH_INTERVALS
from .methods import method_words
from .names import COEFFICIENT_NAMES
from .records import DimensionReport
from .reliability import DimensionFacts, ReliabilityReport

NAMES = COEFFICIENT_NAMES
METHODS = {
    "percentile": "percentile bootstrap",
    "bca": "BCa bootstrap",
    "score": "score interval",
    "logjack": "log-jackknife",
}
BASES = {"pairable": "pairable units", "coded": "all coded units"}
UNDEFINED = "–"  # an en dash: no value
NO_INTERVAL = "—"  # an em dash: no interval (the next column says why)


@dataclass(frozen=True)
class Table:
    """A caption, the column heads and rows of formatted cells."""

    caption: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]  # right-aligned columns
    rows: tuple[tuple[str, ...], ...]


def figure(x: float) -> str:
    """A coefficient to three decimals, APA style: no leading zero, a true minus."""
    if not math.isfinite(x):
        return UNDEFINED
    text = f"{x:.3f}"
    if text in ("-0.000", "0.000"):
        return ".000"
    return text.replace("0.", ".", 1).replace("-", "−")


def interval(low: float, high: float) -> str:
    return f"{figure(low)}–{figure(high)}"


def count(n: int) -> str:
    return f"{n:,}"


def day(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else "–"


def title(report: ReliabilityReport) -> str:
    return f"Reliability of {report.facts.project_name}"


def provenance(report: ReliabilityReport) -> str:
    """Which codebook, which ratings, when: the line under the title."""
    f = report.facts
    return (
        f"Codebook {f.codebook_name}, version {f.codebook_version} (content "
        f"digest {f.codebook_digest[:12]}); ratings from {day(f.first_rating)} "
        f"to {day(f.last_rating)}; {count(f.n_sample)} of {count(f.n_population)} "
        f"{f.unit_noun} in the reliability sample; generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC."
    )


def resampling(report: ReliabilityReport) -> str:
    """What the intervals in the tables are (each method used, in words)."""
    f = report.facts
    used = sorted(
        {m for d in report.dimensions for m in d.interval_methods.values() if m}
    )
    words = "; ".join(f"{_method(m)}: {method_words(m, f.n_resamples)}" for m in used)
    seed = f" (seed {f.seed})" if any(m in ("bca", "percentile") for m in used) else ""
    return (
        f"{round(f.confidence * 100)}% intervals"
        + (f" ({words}){seed}" if words else "")
        + ". Pairable "
        "units are those coded by two or more coders; “all coded units”: "
        "observed agreement from the pairable units, chance agreement from "
        "every coded unit (Gwet's convention)."
    )


def _method(name: str) -> str:
    return METHODS.get(name, name)


def _primary_interval(f: DimensionFacts) -> tuple[str, str]:
    if math.isfinite(f.low) and math.isfinite(f.high):
        return interval(f.low, f.high), _method(f.interval_method)
    return NO_INTERVAL, f.interval_note or "none"


def primary_table(report: ReliabilityReport) -> Table:
    """One row per dimension: the headline coefficient, its interval and its data."""
    facts = {f.key: f for f in report.facts.dimensions}
    rows = []
    for d in report.dimensions:
        f = facts[d.key]
        ci, method = _primary_interval(f)
        rows.append(
            (
                d.label,
                f"{d.level}, {len(d.categories)} categories",
                NAMES.get(f.primary, f.primary),
                figure(f.value),
                ci,
                method,
                count(
                    d.units(f.primary)["n"]
                    if f.primary in d.coefficients
                    else f.n_pairable_units
                ),
                count(f.n_coders),
                count(f.n_pairable_values),
            )
        )
    return Table(
        caption="Agreement per dimension (the coefficient reported)",
        columns=(
            "Dimension",
            "Level",
            "Coefficient",
            "Value",
            "95% CI",
            "Interval",
            "Units",
            "Coders",
            "Pairable values",
        ),
        numeric=(False, False, False, True, True, False, True, True, True),
        rows=tuple(rows),
    )


def _secondary_interval(d: DimensionReport, name: str) -> tuple[str, str]:
    methods = getattr(d, "interval_methods", None) or {}
    notes = getattr(d, "interval_notes", None) or {}
    low, high = d.intervals.get(name, (math.nan, math.nan))
    if name not in WITH_INTERVALS:
        return NO_INTERVAL, "none: it depends on each coder's marginals"
    if not (math.isfinite(low) and math.isfinite(high)):
        return NO_INTERVAL, notes.get(name) or "none computed"
    if not d.intervals_current:
        return NO_INTERVAL, "not yet computed from these data"
    if not d.interval_holds(name):
        n = d.coefficients[name].n_units
        return NO_INTERVAL, notes.get(name) or f"not reliable with {count(n)} units"
    return interval(low, high), _method(methods.get(name, "percentile"))


def secondary_table(report: ReliabilityReport, d: DimensionReport) -> Table:
    """The other coefficients of one dimension, each with its interval or why not."""
    primary = report.primary.get(d.key)
    rows = []
    for name, result in d.coefficients.items():
        if name == primary:
            continue
        ci, method = _secondary_interval(d, name)
        units = d.units(name)
        rows.append(
            (
                NAMES.get(name, name),
                figure(result.value),
                ci,
                method,
                BASES.get(units["basis"], units["basis"]),
                count(units["n"]),
            )
        )
    # The weights are the κ family's and percent agreement's; α, when it is
    # not the headline, is at the dimension's level (an ordinal α is not a
    # quadratically weighted one).
    weights = f"{d.weights} weights"
    if primary != "krippendorff_alpha" and "krippendorff_alpha" in d.coefficients:
        weights = f"α at the {d.level} level; the others with {weights}"
    return Table(
        caption=f"{d.label}: other coefficients ({weights})",
        columns=("Coefficient", "Value", "95% CI", "Interval", "Rests on", "Units"),
        numeric=(False, True, True, False, False, True),
        rows=tuple(rows),
    )


def category_table(d: DimensionReport) -> Table:
    """Krippendorff's α of each category against the rest."""
    return Table(
        caption=f"{d.label}: α per category (this category against the rest)",
        columns=("Category", "α", "Units"),
        numeric=(False, True, True),
        rows=tuple(
            (label, figure(r.value), count(r.n_units)) for _, label, r in d.per_category
        ),
    )
