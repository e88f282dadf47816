"""The reliability report: one object the page, the downloads and the bundle render.

``reliability_report`` wraps the ``ProjectReport`` that the dashboard, its CSV
and the API already get from ``agreement_jobs.report_with_intervals`` (so the
report's figures are theirs by construction) and adds the study's facts
(``facts.read_facts``), the headline coefficient per dimension, the methods
paragraph with its references (``methods.paragraph``) and the sample-size line
(``agreement.sample_size``). See docs/design/reliability-report.md §1 and §4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from annotator.agreement.small_samples import UNIT_BASIS
from annotator.models import Codebook, Project

from .options import ReportRequestError, report_request
from .records import DimensionReport, ProjectReport

DEFAULT_PRIMARY = "krippendorff_alpha"
DEFAULT_UNIT_NOUN = "spans"
# Letters of any script ("Absätze", "énoncés"), then letters and spaces.
_UNIT_NOUN = re.compile(r"[^\W\d_](?:[^\W\d_]| ){0,29}")


class ReliabilityRequestError(ValueError):
    """A bad report option, in words naming the query parameter."""


@dataclass(frozen=True)
class DesignChangeFact:
    """A change of k or the sample share after the project began."""

    changed_at: datetime
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    summary: str


@dataclass(frozen=True)
class DimensionFacts:
    """What the paragraph says of one dimension (figures are the report's own)."""

    key: str
    label: str
    level: str  # nominal, ordinal or set
    n_categories: int
    n_pairable_units: int
    n_pairable_values: int
    n_coders: int
    primary: str  # the headline coefficient's name (UNIT_BASIS key)
    value: float
    low: float  # nan when the interval is withheld
    high: float
    interval_method: str  # e.g. "bca"; "" when withheld
    interval_note: str  # why the interval is withheld, or ""
    min_ratings_per_unit: int = 0  # over pairable units
    max_ratings_per_unit: int = 0
    mean_ratings_per_unit: float = 0.0
    primary_units: int = 0  # the units the primary coefficient rests on
    weights: str = "identity"  # of percent agreement and the κ family


@dataclass(frozen=True)
class ReportFacts:
    """The study's design and data, as the methods paragraph states them."""

    project_name: str
    unit_noun: str
    coders_per_span: int  # k
    sample_share: float
    per_document: bool  # the sample is drawn within each document
    n_population: int  # codable spans in the project
    n_sample: int  # spans in the reliability sample
    n_sample_complete: int  # sampled spans with k or more ratings
    n_coders: int  # distinct coders with a rating of this version
    codebook_name: str
    codebook_version: int
    codebook_digest: str
    first_rating: datetime | None
    last_rating: datetime | None
    design_changes: tuple[DesignChangeFact, ...]
    dimensions: tuple[DimensionFacts, ...]
    n_resamples: int
    seed: int
    confidence: float = 0.95
    # When the single-coded remainder was served most uncertain first (active
    # learning): (from, to) pairs, oldest first, to None while it is on.
    active_learning: tuple[tuple[datetime, datetime | None], ...] = ()


@dataclass
class ReliabilityReport:
    """Everything a reliability report shows; every rendering reads only this."""

    project: Project
    codebook: Codebook
    report: ProjectReport  # the dashboard's figures, the same object
    facts: ReportFacts
    primary: dict[str, str]  # dimension key -> headline coefficient
    paragraph: str
    references: list[str]  # formatted (APA 7), alphabetical (APA)
    sample_size: dict[str, str] = field(default_factory=dict)  # key -> sentence
    # False while a background job computes intervals: downloads then wait (409).
    intervals_current: bool = True
    intervals_progress: str = ""  # the job's progress in words, when not current
    unit_noun: str = DEFAULT_UNIT_NOUN
    # agreement_jobs.IntervalsStatus of a background job (None: all in request);
    # the page shows the dashboard's intervals panel from it.
    intervals_status: Any = None

    @property
    def dimensions(self) -> list[DimensionReport]:
        return self.report.dimensions

    @property
    def generated_at(self) -> datetime:
        return self.report.generated_at


def parse_primary(
    params: Mapping[str, str], dimension_keys: list[str]
) -> dict[str, str]:
    """The headline coefficient per dimension: ``?primary=NAME`` for all and
    ``?primary.<key>=NAME`` for one; a name or key not known is an error."""
    default = params.get("primary") or DEFAULT_PRIMARY
    if default not in UNIT_BASIS:
        raise ReliabilityRequestError(
            f"primary: {default!r} is not a coefficient; choose one of "
            + ", ".join(sorted(UNIT_BASIS))
        )
    chosen = dict.fromkeys(dimension_keys, default)
    for name, value in params.items():
        if not name.startswith("primary."):
            continue
        key = name.removeprefix("primary.")
        if key not in chosen:
            raise ReliabilityRequestError(f"{name}: no dimension {key!r} here")
        if value not in UNIT_BASIS:
            raise ReliabilityRequestError(
                f"{name}: {value!r} is not a coefficient; choose one of "
                + ", ".join(sorted(UNIT_BASIS))
            )
        chosen[key] = value
    return chosen


def parse_unit_noun(params: Mapping[str, str]) -> str:
    """``?unit=paragraphs``: letters and spaces, at most 30 characters."""
    noun = params.get("unit", "").strip() or DEFAULT_UNIT_NOUN
    if not _UNIT_NOUN.fullmatch(noun):
        raise ReliabilityRequestError(
            "unit: letters and spaces only, at most 30 characters (e.g. paragraphs)"
        )
    return noun


def reliability_request(
    project: Project, params: Mapping[str, str]
) -> tuple[Codebook, dict[str, str], str]:
    """The codebook version (``?version=``), headline per dimension and unit noun
    a request asks for: the page's and every download's one reader. A bad
    option is a ReportRequestError (400 naming it; 404 for a version never had)."""
    _options, codebook = report_request(project, params)
    keys = list(codebook.dimensions.values_list("key", flat=True))
    try:
        return codebook, parse_primary(params, keys), parse_unit_noun(params)
    except ReliabilityRequestError as error:
        raise ReportRequestError(400, str(error)) from error


def reliability_report(
    project: Project,
    *,
    codebook: Codebook | None = None,
    primary: Mapping[str, str] | None = None,
    unit_noun: str = DEFAULT_UNIT_NOUN,
    by: Any = None,
) -> ReliabilityReport:
    """The report of ``codebook`` (by default the project's version): the
    dashboard's figures (background intervals queued by ``by`` when stale) with
    the facts, the paragraph and the sample-size lines."""
    # Imported here: the job service imports this package's report module.
    from annotator.services import agreement_jobs

    from . import facts as facts_module
    from . import methods

    codebook = codebook or project.codebook
    report, status = agreement_jobs.report_with_intervals(
        project, by=by, codebook=codebook
    )
    # A coefficient a dimension lacks (none of the κ family for multi-choice
    # dimensions) leaves that dimension on α; the headline names what is shown.
    chosen = {
        d.key: p
        if (p := (primary or {}).get(d.key, DEFAULT_PRIMARY)) in d.coefficients
        else DEFAULT_PRIMARY
        for d in report.dimensions
    }
    facts = facts_module.read_facts(project, codebook, report, chosen, unit_noun)
    text, references = methods.paragraph(facts)
    current = all(d.intervals_current for d in report.dimensions)
    progress = ""
    if status is not None and not current and status.job is not None:
        progress = status.job.note
    return ReliabilityReport(
        project=project,
        codebook=codebook,
        report=report,
        facts=facts,
        primary=chosen,
        paragraph=text,
        references=references,
        sample_size=facts_module.sample_size_lines(facts),
        intervals_current=current,
        intervals_progress=progress,
        unit_noun=unit_noun,
        intervals_status=status,
    )
