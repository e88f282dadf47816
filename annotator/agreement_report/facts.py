"""The study's facts for the reliability report: design, sample, codebook, dates."""

from __future__ import annotations

import math
from collections.abc import Mapping

from django.db.models import Count, Max, Min, Q

from annotator.codebooks import content_digest
from annotator.models import Annotation, Codebook, DesignChange, Project, WorkItem

from .records import DimensionReport, ProjectReport
from .reliability import DesignChangeFact, DimensionFacts, ReportFacts

# The design fields whose change the methods paragraph reports.
DESIGN_FIELDS = ("coders_per_span", "sample_share")


def _interval(d: DimensionReport, name: str) -> tuple[float, float, str, str]:
    low, high = d.intervals.get(name, (math.nan, math.nan))
    method = getattr(d, "interval_methods", {}).get(name, "percentile")
    note = getattr(d, "interval_notes", {}).get(name, "")
    if not d.intervals_current or not d.interval_holds(name):
        return math.nan, math.nan, "", note or "no interval that holds"
    return low, high, method, note


def dimension_facts(d: DimensionReport, primary: str) -> DimensionFacts:
    result = d.coefficients.get(primary, d.estimate)
    low, high, method, note = _interval(d, primary)
    return DimensionFacts(
        key=d.key,
        label=d.label,
        level=d.level,
        n_categories=len(d.categories),
        n_pairable_units=d.estimate.n_units,
        n_pairable_values=d.estimate.n_pairable,
        n_coders=d.estimate.n_coders,
        primary=primary,
        value=result.value,
        low=low,
        high=high,
        interval_method=method,
        interval_note=note,
    )


def read_facts(
    project: Project,
    codebook: Codebook,
    report: ProjectReport,
    primary: Mapping[str, str],
    unit_noun: str,
) -> ReportFacts:
    """The facts of ``report`` (``codebook``'s ratings in ``project``)."""
    items = WorkItem.objects.filter(project=project).aggregate(
        population=Count("pk"),
        sample=Count("pk", filter=Q(in_sample=True)),
    )
    annotations = Annotation.objects.filter(project=project, codebook=codebook)
    times = annotations.aggregate(
        first=Min("created_at"),
        last=Max("updated_at"),
        coders=Count("assignment__coder", distinct=True),
    )
    complete = (
        annotations.filter(assignment__work_item__in_sample=True)
        .values("assignment__work_item")
        .annotate(n=Count("pk"))
        .filter(n__gte=project.coders_per_span)
        .count()
    )
    changes = tuple(
        DesignChangeFact(c.changed_at, c.before, c.after, c.summary)
        for c in DesignChange.objects.filter(project=project).order_by(
            "changed_at", "id"
        )
        if any(
            c.before.get(f) != c.after.get(f) for f in DESIGN_FIELDS if f in c.before
        )
    )
    return ReportFacts(
        project_name=project.name,
        unit_noun=unit_noun,
        coders_per_span=project.coders_per_span,
        sample_share=project.sample_share,
        per_document=True,  # services.projects draws the sample within each document
        n_population=items["population"],
        n_sample=items["sample"],
        n_sample_complete=complete,
        n_coders=times["coders"],
        codebook_name=codebook.name,
        codebook_version=codebook.version,
        codebook_digest=content_digest(codebook),
        first_rating=times["first"],
        last_rating=times["last"],
        design_changes=changes,
        dimensions=tuple(
            dimension_facts(d, primary.get(d.key, "krippendorff_alpha"))
            for d in report.dimensions
        ),
        n_resamples=report.n_resamples,
        seed=report.seed,
    )


def sample_size_lines(facts: ReportFacts) -> dict[str, str]:
    """Per dimension, the reliability sample against Krippendorff's minimum."""
    from annotator.agreement.sample_size import plan

    lines = {}
    for d in facts.dimensions:
        if d.n_categories < 2:
            continue
        p = plan(0.8, 0.8, d.n_categories)
        lines[d.key] = (
            f"{p.krippendorff_text} This sample has {d.n_pairable_units:,} "
            f"{facts.unit_noun} coded by two or more coders."
        )
    return lines
