"""The methods paragraph written from the report's facts, with its references (pure).

Each function in ``SENTENCES`` reads the facts and returns a Sentence or None;
the paragraph joins the sentences present and cites the union of their
references, in order. See docs/design/reliability-report.md §4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .reliability import DimensionFacts, ReportFacts

REFERENCES = {
    "krippendorff2004": (
        "Krippendorff, K. (2004). Content analysis: An introduction to its "
        "methodology (2nd ed.). Sage."
    ),
    "efron1987": (
        "Efron, B. (1987). Better bootstrap confidence intervals. Journal of the "
        "American Statistical Association, 82(397), 171–185."
    ),
}

NAMES = {
    "krippendorff_alpha": "Krippendorff's α",
    "percent_agreement": "percent agreement",
    "fleiss_kappa": "Fleiss' κ",
    "conger_kappa": "Conger's κ",
    "cohen_kappa": "Cohen's κ",
    "scott_pi": "Scott's π",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2": "Gwet's AC2",
    "brennan_prediger": "Brennan and Prediger's κ",
}


@dataclass(frozen=True)
class Sentence:
    text: str
    cites: frozenset[str] = frozenset()


def coefficient(x: float) -> str:
    """APA style for a coefficient bounded by 1: no leading zero (.81, −.05)."""
    if not math.isfinite(x):
        return "undefined"
    text = f"{x:.2f}"
    return text.replace("0.", ".", 1).replace("-", "−")


def _dimension(d: DimensionFacts, facts: ReportFacts) -> Sentence:
    name = NAMES.get(d.primary, d.primary)
    if math.isfinite(d.low) and math.isfinite(d.high):
        interval = (
            f" (95% CI {coefficient(d.low)}–{coefficient(d.high)}, "
            f"{d.interval_method}, {facts.n_resamples:,} resamples of units)"
        )
    else:
        interval = f" ({d.interval_note})" if d.interval_note else ""
    return Sentence(
        f"For {d.label} ({d.level}, {d.n_categories} categories), {name} = "
        f"{coefficient(d.value)}{interval} on {d.n_pairable_units:,} "
        f"{facts.unit_noun}.",
        frozenset({"krippendorff2004", "efron1987"}),
    )


def _design(facts: ReportFacts) -> Sentence:
    return Sentence(
        f"{facts.n_coders} coders coded a sample of {facts.n_sample:,} of "
        f"{facts.n_population:,} {facts.unit_noun}."
    )


SENTENCES: tuple[Callable[[ReportFacts], list[Sentence]], ...] = (
    lambda f: [_design(f)],
    lambda f: [_dimension(d, f) for d in f.dimensions],
)


def paragraph(facts: ReportFacts) -> tuple[str, list[str]]:
    """The paragraph's text and its formatted references, in citation order."""
    sentences = [s for make in SENTENCES for s in make(facts) if s is not None]
    keys: list[str] = []
    for s in sentences:
        keys.extend(k for k in sorted(s.cites) if k not in keys)
    return " ".join(s.text for s in sentences), [REFERENCES[k] for k in keys]
