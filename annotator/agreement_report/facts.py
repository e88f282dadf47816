"""The study's facts for the reliability report: design, sample, codebook, dates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet

from annotator.agreement.small_samples import too_few_units
from annotator.codebooks import content_digest
from annotator.models import (
    Annotation,
    Codebook,
    DesignChange,
    Label,
    Project,
    WorkItem,
)
from annotator.models.projects import switch_periods
from annotator.services.active_learning import OPTION as ACTIVE_LEARNING

from .records import DimensionReport, ProjectReport
from .reliability import DEFAULT_PRIMARY, DesignChangeFact, DimensionFacts, ReportFacts

# The design fields whose change the methods paragraph reports.
DESIGN_FIELDS = ("coders_per_span", "sample_share")
# Krippendorff's minimum is asked for at his "rely on" threshold (2004, p. 241).
PLAN_MIN_ALPHA = 0.800


@dataclass(frozen=True)
class RatingsPerUnit:
    """Ratings (distinct coders) per pairable unit of one dimension."""

    n_units: int
    least: int
    mean: float
    most: int


NO_RATINGS = RatingsPerUnit(0, 0, 0.0, 0)


def interval_of(d: DimensionReport, name: str) -> tuple[float, float, str, str]:
    """(low, high, method, note) of a coefficient's interval as the report may
    print it: nan ends, no method and the reason when it is withheld."""
    low, high = d.intervals.get(name, (math.nan, math.nan))
    method = getattr(d, "interval_methods", {}).get(name, "percentile")
    note = getattr(d, "interval_notes", {}).get(name, "")
    if name not in d.intervals:
        return math.nan, math.nan, "", note or "no interval is computed for it"
    if not d.intervals_current:
        return math.nan, math.nan, "", note or "the interval is being computed"
    if not d.interval_holds(name):
        n = d.coefficients[name].n_units
        why = (
            f"too few units ({n:,}) for an interval that holds its level"
            if too_few_units(n)
            else "the interval misses its own estimate"
        )
        return math.nan, math.nan, "", note or why
    return low, high, method, note


def _spread(per_unit: QuerySet, group: str | None) -> dict[str, RatingsPerUnit]:
    """Min, mean and max of ``per_unit``'s ``n`` per ``group`` (None: one row
    under the key ""), in one query."""
    sql, params = per_unit.query.sql_with_params()
    key = f'"{group}"' if group else "''"
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT {key}, COUNT(*), MIN("n"), AVG("n"), MAX("n") '
            f"FROM ({sql}) per_unit" + (f" GROUP BY {key}" if group else ""),
            params,
        )
        rows = cursor.fetchall()
    return {
        key: RatingsPerUnit(
            int(units), int(least or 0), float(mean or 0), int(most or 0)
        )
        for key, units, least, mean, most in rows
    }


def ratings_per_unit(
    project: Project, codebook: Codebook, set_keys: Iterable[str] = ()
) -> dict[str, RatingsPerUnit]:
    """{dimension key: ratings per pairable unit}: distinct coders per unit
    inside, their spread per dimension outside (units with two or more coders,
    as α pairs them). A multi-choice dimension's empty set is a rating with no
    label row, so ``set_keys``' units are counted from the annotations (a
    second query, only when there are such dimensions)."""
    labels = (
        Label.objects.filter(project=project, dimension__codebook=codebook)
        .order_by()
        .values("dimension__key", "span_id")
        .annotate(n=Count("coder_id", distinct=True))
        .filter(n__gte=2)
    )
    spread = _spread(labels, "dimension__key")
    set_keys = list(set_keys)
    if set_keys:
        annotations = (
            Annotation.objects.filter(project=project, codebook=codebook)
            .order_by()
            .values("assignment__span_id")
            .annotate(n=Count("assignment__coder_id", distinct=True))
            .filter(n__gte=2)
        )
        sets = _spread(annotations, None).get("", NO_RATINGS)
        spread.update(dict.fromkeys(set_keys, sets))
    return spread


def dimension_facts(
    d: DimensionReport, primary: str, spread: RatingsPerUnit = NO_RATINGS
) -> DimensionFacts:
    result = d.coefficients.get(primary, d.estimate)
    low, high, method, note = interval_of(d, primary)
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
        min_ratings_per_unit=spread.least,
        max_ratings_per_unit=spread.most,
        mean_ratings_per_unit=spread.mean,
        # The table's count: all coded units for a coefficient whose chance
        # term reads them (Gwet, Fleiss, ...), else the pairable ones.
        primary_units=d.units(primary)["n"]
        if primary in d.coefficients
        else result.n_units,
        weights=d.weights,
    )


def design_changes(
    changes: list[DesignChange],
) -> tuple[DesignChangeFact, ...]:
    """The changes of k or the sample share among ``changes`` (oldest first;
    codebook moves, lease changes and switches are not the sample's design)."""
    return tuple(
        DesignChangeFact(c.changed_at, c.before, c.after, c.summary)
        for c in changes
        if any(
            c.before.get(f) != c.after.get(f) for f in DESIGN_FIELDS if f in c.before
        )
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
    changes = list(
        DesignChange.objects.filter(project=project).order_by("changed_at", "id")
    )
    set_keys = [d.key for d in report.dimensions if d.level == "set"]
    spreads = ratings_per_unit(project, codebook, set_keys)
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
        design_changes=design_changes(changes),
        dimensions=tuple(
            dimension_facts(
                d, primary.get(d.key, DEFAULT_PRIMARY), spreads.get(d.key, NO_RATINGS)
            )
            for d in report.dimensions
        ),
        n_resamples=report.n_resamples,
        seed=report.seed,
        # From the same rows, so no query of its own.
        active_learning=tuple(
            switch_periods(((c.changed_at, c.after) for c in changes), ACTIVE_LEARNING)
        ),
    )


def sample_size_lines(facts: ReportFacts) -> dict[str, str]:
    """Per dimension, the reliability sample against Krippendorff's minimum."""
    from annotator.agreement.sample_size import plan

    lines = {}
    for d in facts.dimensions:
        if d.n_categories < 2:
            continue
        p = plan(PLAN_MIN_ALPHA, PLAN_MIN_ALPHA, d.n_categories)
        lines[d.key] = (
            f"{p.krippendorff_text} This sample has {d.n_pairable_units:,} "
            f"{facts.unit_noun} coded by two or more coders "
            f"({d.n_pairable_values:,} pairable values)."
        )
    return lines
