"""The report's records (per dimension, per project), their JSON form and the verdicts.

``DimensionReport.to_dict`` is the API's and the command's JSON; ``reading`` and
``band`` turn an alpha into the dashboard's sentence and colour against
Krippendorff's thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from annotator.agreement import (
    AgreementResult,
    BootstrapResult,
    CoderStats,
    LabeledMatrix,
)
from annotator.agreement.interval_set import IntervalSet
from annotator.agreement.small_samples import (
    MIN_PAIRABLE_UNITS,
    UNIT_BASIS,
    interval_holds,
    too_few_units,
)
from annotator.models import Project

from .intervals import (
    CURRENT,
    IN_REQUEST,
    MISSING,
    STALE,
    alpha_result,
    interval_set,
)
from .judging import RELIABLE, TENTATIVE, ends
from .judging import band as threshold_band


def caution(n_units: int) -> str:
    """The neutral warning below MIN_PAIRABLE_UNITS double-coded units, or ""."""
    if not too_few_units(n_units):
        return ""
    return (
        f"Too few double-coded units for a stable estimate: {n_units} "
        f"(fewer than {MIN_PAIRABLE_UNITS}); intervals at this size are wide "
        "and may not cover the true value."
    )


def reading(
    value: float,
    low: float = math.nan,
    high: float = math.nan,
    n_units: int | None = None,
) -> str:
    """One line saying what an alpha means against the .667/.800 thresholds.

    Given ``n_units`` (double-coded units), a sample below MIN_PAIRABLE_UNITS
    gets the caution instead of a verdict, and an interval that cannot hold
    (``interval_holds``) is left out.
    """
    if not math.isfinite(value):
        return "Not enough double-coded units with variation to measure agreement."
    if n_units is not None:
        if too_few_units(n_units):
            return f"α = {value:.3f}. {caution(n_units)}"
        if not interval_holds(value, low, high, n_units):
            low = high = math.nan
    interval = (
        f" (95% interval {low:.3f} to {high:.3f})"
        if math.isfinite(low) and math.isfinite(high)
        else ""
    )
    if value >= RELIABLE:
        verdict = "reliable: at or above .800, fit for drawing conclusions"
    elif value >= TENTATIVE:
        verdict = "between .667 and .800: good enough for tentative conclusions only"
    else:
        verdict = "below .667: not reliable, revise the codebook or retrain coders"
    return f"α = {value:.3f}{interval} is {verdict}{ends(value, low, high)}."


def band(value: float) -> str:
    """Colour band of an alpha: good, tentative, poor or none (undefined)."""
    if not math.isfinite(value):
        return "none"
    return ("poor", "tentative", "good")[threshold_band(value)]


@dataclass(frozen=True)
class CoderRow:
    user_id: int
    username: str
    stats: CoderStats
    median_seconds: float


@dataclass(frozen=True)
class GroupRow:
    key: Any  # document id, Monday's date, or batch number
    label: str
    result: AgreementResult


@dataclass
class DimensionReport:
    """Every figure for one dimension of a project."""

    key: str
    label: str
    level: str  # nominal, ordinal or set (MASI)
    weights: str  # for percent agreement and the kappa family
    categories: list[tuple[str, str]]  # (key, label) in scale order
    n_ratings: int
    n_units_coded: int  # spans with at least one rating
    alpha: BootstrapResult
    coefficients: dict[str, AgreementResult]
    intervals: dict[str, tuple[float, float]]  # 95%, nan where none holds
    per_category: list[tuple[str, str, AgreementResult]]
    pairwise: LabeledMatrix  # coder usernames
    coders: list[CoderRow]
    documents: list[GroupRow]  # documents with >= 1 pairable unit, worst first
    n_documents: int  # documents with >= 1 pairable unit
    over_time: list[GroupRow]
    over: str  # week or batch
    batch_size: int
    confusion: LabeledMatrix  # category labels
    coincidence: LabeledMatrix
    # Where the intervals came from (intervals.IN_REQUEST, CURRENT, STALE or
    # MISSING) and, for a background job's, when it computed them.
    intervals_from: str = IN_REQUEST
    intervals_as_of: datetime | None = None
    # coefficient -> its interval's method (interval_policy.METHOD), and why
    # an interval is withheld (or the fallback it took); from one IntervalSet.
    interval_methods: dict[str, str] = field(default_factory=dict)
    interval_notes: dict[str, str] = field(default_factory=dict)

    def take_intervals(self, intervals: IntervalSet | None) -> None:
        """Every interval figure of this dimension from one ``IntervalSet``
        (None: none computed)."""
        self.alpha = alpha_result(self.estimate, intervals)
        if intervals is None:
            self.intervals = {"krippendorff_alpha": (math.nan, math.nan)}
            self.interval_methods, self.interval_notes = {}, {}
            return
        self.intervals = intervals.bounds()
        self.interval_methods = intervals.methods
        self.interval_notes = intervals.notes

    @property
    def intervals_current(self) -> bool:
        """Computed from the data the estimates are: a verdict may use them."""
        return self.intervals_from in (IN_REQUEST, CURRENT)

    def use_stored(
        self, stored: dict | None, *, current: bool, as_of: datetime | None
    ) -> None:
        """Take a background job's intervals of this dimension (None: it has none)."""
        if stored is None or stored["level"] != self.level:
            self.intervals_from, self.intervals_as_of = MISSING, None
            return
        self.take_intervals(interval_set(stored))
        self.intervals_from = CURRENT if current else STALE
        self.intervals_as_of = as_of

    @property
    def estimate(self) -> AgreementResult:
        return self.alpha.estimate

    @property
    def band(self) -> str:
        """The verdict's colour; none below the minimum sample (the caution instead)."""
        return "none" if self.caution else band(self.estimate.value)

    @property
    def reading(self) -> str:
        """The verdict, with the interval only when it is of the data shown."""
        a = self.alpha
        low, high = (a.ci_low, a.ci_high) if self.intervals_current else (math.nan,) * 2
        return reading(self.estimate.value, low, high, self.estimate.n_units)

    @property
    def caution(self) -> str:
        return caution(self.estimate.n_units)

    def units(self, name: str) -> dict[str, Any]:
        """The units a coefficient's estimate (and its interval) rests on."""
        basis = UNIT_BASIS.get(name, "pairable")
        n = self.n_units_coded if basis == "coded" else self.coefficients[name].n_units
        return {"basis": basis, "n": n}

    def interval_holds(self, name: str) -> bool:
        """Whether the coefficient's interval may be shown as an interval for it."""
        low, high = self.intervals.get(name, (math.nan, math.nan))
        r = self.coefficients[name]
        return interval_holds(r.value, low, high, r.n_units)

    @property
    def conger_cohen_note(self) -> str:
        """Why Conger's and Cohen's kappa differ with two coders, or "" when they
        agree to three decimals (they coincide on the same units)."""
        cohen = self.coefficients.get("cohen_kappa")
        conger = self.coefficients.get("conger_kappa")
        if cohen is None or conger is None:
            return ""
        a, b = cohen.value, conger.value
        if (math.isnan(a) and math.isnan(b)) or round(a, 3) == round(b, 3):
            return ""
        return (
            "With two coders Conger's κ is Cohen's κ on the same units; here they "
            f"differ because Cohen's κ uses only the {cohen.n_units} units both "
            "coders coded (chance agreement from their table), while Conger's "
            "chance agreement takes each coder's categories over every unit that "
            f"coder coded ({self.n_units_coded} units, {conger.excluded_units} "
            "of them coded by one coder only)."
        )

    def to_dict(self, documents_limit: int | None = None) -> dict[str, Any]:
        """JSON-ready figures (undefined values are None)."""
        docs = self.documents[:documents_limit] if documents_limit else self.documents
        return _clean(
            {
                "key": self.key,
                "label": self.label,
                "level": self.level,
                "weights": self.weights,
                "categories": [{"key": k, "label": lab} for k, lab in self.categories],
                "n_ratings": self.n_ratings,
                "n_units_coded": self.n_units_coded,
                "n_units": self.estimate.n_units,
                "n_pairable": self.estimate.n_pairable,
                "excluded_units": self.estimate.excluded_units,
                "n_coders": self.estimate.n_coders,
                "band": self.band,
                "reading": self.reading,
                "caution": self.caution or None,
                "min_pairable_units": MIN_PAIRABLE_UNITS,
                "conger_cohen_note": self.conger_cohen_note or None,
                "intervals": {
                    "methods": self.interval_methods,
                    "notes": self.interval_notes,
                    "state": self.intervals_from,
                    "as_of": self.intervals_as_of.isoformat()
                    if self.intervals_as_of
                    else None,
                },
                "alpha": {
                    "value": self.estimate.value,
                    "ci_low": self.alpha.ci_low,
                    "ci_high": self.alpha.ci_high,
                    "confidence": self.alpha.confidence,
                    "p_below": {f"{m:.3f}": p for m, p in self.alpha.p_below.items()},
                    "n_resamples": self.alpha.n_resamples,
                    "n_valid": self.alpha.n_valid,
                    "method": self.alpha.method,
                    "interval_method": self.interval_methods.get("krippendorff_alpha"),
                    "interval_note": self.interval_notes.get("krippendorff_alpha"),
                    "interval_holds": self.interval_holds("krippendorff_alpha"),
                    "interval_state": self.intervals_from,
                    "units": self.units("krippendorff_alpha"),
                },
                "coefficients": {
                    name: {
                        **_result(r),
                        "ci_low": self.intervals.get(name, (None, None))[0],
                        "ci_high": self.intervals.get(name, (None, None))[1],
                        "interval_holds": self.interval_holds(name),
                        "interval_method": self.interval_methods.get(name),
                        "interval_note": self.interval_notes.get(name),
                        "interval_state": self.intervals_from,
                        "units": self.units(name),
                    }
                    for name, r in self.coefficients.items()
                },
                "per_category": [
                    {"key": k, "label": lab, **_result(r)}
                    for k, lab, r in self.per_category
                ],
                "pairwise_kappa": {
                    "coders": list(self.pairwise.row_labels),
                    "kappa": self.pairwise.matrix.tolist(),
                    "shared_units": self.pairwise.counts.tolist()
                    if self.pairwise.counts is not None
                    else None,
                },
                "coders": [
                    {
                        "username": row.username,
                        "n_coded": row.stats.n_coded,
                        "n_shared_units": row.stats.n_shared_units,
                        "median_seconds": row.median_seconds,
                        "percent_agreement": row.stats.percent_agreement,
                        "n_comparisons": row.stats.n_comparisons,
                        "alpha_without": row.stats.alpha_without,
                    }
                    for row in self.coders
                ],
                "documents": {
                    "n_documents": self.n_documents,
                    "shown": len(docs),
                    "rows": [
                        {"document_id": r.key, "title": r.label, **_result(r.result)}
                        for r in docs
                    ],
                },
                "over_time": {
                    "by": self.over,
                    "batch_size": self.batch_size if self.over == "batch" else None,
                    "rows": [
                        {"period": r.label, **_result(r.result)} for r in self.over_time
                    ],
                },
                "confusion_matrix": {
                    "categories": list(self.confusion.row_labels),
                    "counts": self.confusion.matrix.tolist(),
                },
                "coincidence_matrix": {
                    "categories": list(self.coincidence.row_labels),
                    "values": self.coincidence.matrix.tolist(),
                },
            }
        )


@dataclass
class ProjectReport:
    project: Project
    dimensions: list[DimensionReport]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    n_resamples: int = 1000
    seed: int = 0
    codebook_version: int | None = None  # the version whose annotations count

    @property
    def needs_background(self) -> bool:
        """Some dimension's intervals are a background job's (too large here)."""
        return any(d.intervals_from != IN_REQUEST for d in self.dimensions)

    def fill_intervals(
        self, stored: dict | None, *, current: bool, as_of: datetime | None
    ) -> None:
        """Give the dimensions left to a job that job's last result:
        ``stored`` maps dimension keys to intervals (None: never computed);
        ``current`` says it was computed from the data reported here."""
        for d in self.dimensions:
            if d.intervals_from != IN_REQUEST:
                found = (stored or {}).get(d.key)
                d.use_stored(found, current=current, as_of=as_of)

    def to_dict(self, documents_limit: int | None = None) -> dict[str, Any]:
        return {
            "project": {"id": self.project.pk, "name": self.project.name},
            "generated_at": self.generated_at.isoformat(),
            "codebook_version": self.codebook_version,
            "thresholds": {"reliable": RELIABLE, "tentative": TENTATIVE},
            "dimensions": [d.to_dict(documents_limit) for d in self.dimensions],
        }


def _result(r: AgreementResult) -> dict[str, Any]:
    return {
        "value": r.value,
        "n_units": r.n_units,
        "n_pairable": r.n_pairable,
        "excluded_units": r.excluded_units,
        "n_coders": r.n_coders,
    }


def _clean(obj: Any) -> Any:
    """nan/inf -> None and numpy scalars -> Python, recursively (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
