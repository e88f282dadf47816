"""The agreement report of a project: every coefficient and breakdown per dimension."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model

from annotator.agreement import LabeledMatrix, agreement_weights
from annotator.agreement.coded import (
    Coded,
    alpha_from_parts,
    alpha_parts,
    coder_stats_from_coded,
    cohen_from_coded,
    coincidence_from_parts,
    encode,
    kappa_family,
    pairwise_kappa_from_coded,
    per_category_from_coded,
    pooled_confusion_from_coded,
    rating_pairs,
)
from annotator.agreement_report import intervals as iv
from annotator.agreement_report.groups import OVER, document_rows, period_rows
from annotator.agreement_report.records import (
    CoderRow,
    DimensionReport,
    GroupRow,
    ProjectReport,
)
from annotator.medians import medians_by_group
from annotator.models import Category, Codebook, Dimension, Project
from annotator.ratings import AnnotationArrays, LabelArrays, read_project
from corpus.models import Document


def coder_medians(annotations: AnnotationArrays) -> dict[int, float]:
    """Median seconds per span of each coder, from every annotation (NaN ignored):
    annotator.medians, as the project page's medians."""
    return medians_by_group(annotations.coder, annotations.seconds)


def _scale_label(value: Any, scale: Sequence[Category]) -> str:
    if isinstance(value, frozenset):
        return " + ".join(scale[i].label for i in sorted(value)) or "(none)"
    return scale[int(value)].label


def dimension_report(
    project: Project,
    dimension: Dimension,
    *,
    annotations: AnnotationArrays | None = None,
    over: str = "week",
    batch_size: int = 100,
    n_resamples: int = 1000,
    seed: int = 0,
    usernames: dict[int, str] | None = None,
    medians: dict[int, float] | None = None,
    documents_limit: int | None = None,
    data: LabelArrays | None = None,
    bootstrap_max_units: int | None = None,
) -> DimensionReport:
    """All coefficients and breakdowns for one dimension of a project.

    ``data`` is the dimension's ratings (read here when not given); the
    ``annotations`` are needed only for the coders' ``medians`` when those are
    not given. ``documents_limit`` keeps that many per-document rows (lowest
    alpha first); every document's alpha is computed either way, in one pass.
    Above ``bootstrap_max_units`` pairable units the bootstrap is left out
    (``intervals_from`` MISSING) for a background job's stored intervals
    (``ProjectReport.fill_intervals``); None computes it whatever the size.
    """
    if over not in OVER:
        raise ValueError(f"over must be one of {OVER}, got {over!r}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if data is None:
        annotations, (data,) = read_project(project, [dimension], version_only=True)
    if medians is None:
        if annotations is None:
            annotations = read_project(
                project, [dimension], documents=False, version_only=True
            )[0]
        medians = coder_medians(annotations)
    del annotations  # only the medians needed them (memory)
    scale, level = data.categories, data.level
    coded, weights = _coded(data)
    w = agreement_weights(weights, coded.q)
    parts = alpha_parts(coded, level)
    estimate = alpha_from_parts(parts, name=f"krippendorff_alpha_{level}")
    family = kappa_family(coded, weights)
    coefficients = {"krippendorff_alpha": estimate}
    for name, result in family.items():
        coefficients[result.coefficient if name == "gwet" else name] = result
    if coded.n_coders == 2:
        coefficients["cohen_kappa"] = cohen_from_coded(coded, w, 0, 1)
    in_request = bootstrap_max_units is None or parts.n_units <= bootstrap_max_units
    # Through the stored form, so a request's intervals read exactly as a
    # background job's would.
    intervals = (
        iv.interval_set(iv.compute(parts, weights, n_resamples=n_resamples, seed=seed))
        if in_request
        else None
    )
    per_category = [
        (scale[i].key, scale[i].label, r)
        for i, r in per_category_from_coded(coded, tuple(range(len(scale)))).items()
    ]
    if usernames is None:
        usernames = _usernames(coded.coder_labels)
    names = tuple(usernames.get(int(u), str(u)) for u in coded.coder_labels)
    ij = rating_pairs(coded)
    pairwise = pairwise_kappa_from_coded(coded, w, ij)
    pairwise = LabeledMatrix(names, names, pairwise.matrix, pairwise.counts)
    stats = coder_stats_from_coded(coded, level, ij, parts)
    coders = [
        CoderRow(int(u), names[g], stats[int(u)], medians.get(int(u), math.nan))
        for g, u in enumerate(coded.coder_labels)
    ]
    documents, n_documents = document_rows(coded, data, level, documents_limit)
    over_time = period_rows(coded, data, level, over, batch_size)
    confusion = pooled_confusion_from_coded(coded, ij)
    labels = tuple(_scale_label(v, scale) for v in confusion.row_labels)
    coincidence = coincidence_from_parts(parts)
    report = DimensionReport(
        key=dimension.key,
        label=dimension.label,
        level=level,
        weights=weights,
        categories=[(c.key, c.label) for c in scale],
        n_ratings=len(coded.unit),
        n_units_coded=coded.n_units,
        alpha=iv.alpha_result(estimate, None),
        coefficients=coefficients,
        intervals={},
        per_category=per_category,
        pairwise=pairwise,
        coders=coders,
        documents=documents,
        n_documents=n_documents,
        over_time=over_time,
        over=over,
        batch_size=batch_size,
        confusion=LabeledMatrix(labels, labels, confusion.matrix),
        coincidence=LabeledMatrix(labels, labels, coincidence),
        intervals_from=iv.IN_REQUEST if in_request else iv.MISSING,
    )
    report.take_intervals(intervals)
    return report


def _coded(data: LabelArrays) -> tuple[Coded, str]:
    """A dimension's ratings coded once, and its weights (quadratic if ordinal)."""
    weights = "quadratic" if data.level == "ordinal" else "identity"
    coded = encode(
        data.unit,
        data.coder,
        data.value,
        level=data.level,
        categories=tuple(range(len(data.categories))),
    )
    return coded, weights


def project_intervals(
    project: Project,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every dimension's bootstrap intervals in their stored form
    (``intervals``), keyed by dimension: what a background job computes, the
    same numbers ``project_report`` gives for the same seed.
    ``progress(done, total, words)`` counts resamples (alpha's and the kappa
    family's of each dimension)."""
    dimensions = list(project.codebook.dimensions.all())
    ratings = read_project(
        project, dimensions, documents=False, times=False, version_only=True
    )[1]
    per_dimension = iv.resamples_drawn(n_resamples)
    total = per_dimension * len(dimensions)
    out = {}
    for i, dimension in enumerate(dimensions):
        data = ratings.pop(0)
        coded, weights = _coded(data)
        parts = alpha_parts(coded, data.level)
        done_before = per_dimension * i

        def step(done: int, key: str = dimension.key, before: int = done_before):
            if progress is not None:
                progress(
                    before + done,
                    total,
                    f"{before + done:,} of {total:,} resamples ({key})",
                )

        out[dimension.key] = iv.compute(
            parts,
            weights,
            n_resamples=n_resamples,
            seed=seed,
            progress=step,
        )
        del data, coded, parts
    return out


def _usernames(user_ids: Sequence[Any]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[int(u) for u in user_ids])
    return dict(users.values_list("pk", "username"))


def project_report(
    project: Project,
    *,
    dimensions: Sequence[Dimension] | None = None,
    codebook: Codebook | None = None,
    over: str = "week",
    batch_size: int = 100,
    n_resamples: int = 1000,
    seed: int = 0,
    documents_limit: int | None = 50,
    bootstrap_max_units: int | None = None,
) -> ProjectReport:
    """The agreement report for every dimension of the project's codebook.

    Only the annotations made under one codebook version count: ``codebook``'s
    (a version of the project's codebook), by default the project's own; the
    ``dimensions`` given are of that version. ``documents_limit`` keeps the
    per-document rows of the worst documents (titles are looked up for those
    only); None keeps every document. Above
    ``bootstrap_max_units`` pairable units a dimension's bootstrap is left to a
    background job (see ``dimension_report``).
    """
    codebook = codebook or project.codebook
    if dimensions is None:
        dimensions = list(codebook.dimensions.all())
    annotations, ratings = read_project(project, dimensions, version_only=True)
    usernames = _usernames(np.unique(annotations.coder).tolist())
    medians = coder_medians(annotations)
    # What a dimension still needs of the annotations its ratings hold (a
    # multi-choice one: all of them); the rest is freed before the maths.
    del annotations
    reports = []
    for dimension in dimensions:
        data = ratings.pop(0)  # each dimension's arrays are freed once reported
        reports.append(
            dimension_report(
                project,
                dimension,
                data=data,
                over=over,
                batch_size=batch_size,
                n_resamples=n_resamples,
                seed=seed,
                usernames=usernames,
                medians=medians,
                documents_limit=documents_limit,
                bootstrap_max_units=bootstrap_max_units,
            )
        )
        del data
    keep = {row.key for r in reports for row in r.documents}
    titles = dict(Document.objects.filter(pk__in=keep).values_list("pk", "title"))
    for r in reports:
        r.documents = [
            GroupRow(row.key, titles.get(row.key, f"document {row.key}"), row.result)
            for row in r.documents
        ]
    return ProjectReport(
        project,
        reports,
        n_resamples=n_resamples,
        seed=seed,
        codebook_version=codebook.version,
    )
