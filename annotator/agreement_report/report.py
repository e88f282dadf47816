"""The agreement report of a project: every coefficient and breakdown per dimension."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model

from annotator.agreement import (
    AgreementResult,
    BootstrapResult,
    CoderStats,
    LabeledMatrix,
    agreement_weights,
)
from annotator.agreement.coded import (
    Coded,
    alpha_parts,
    bootstrap_from_parts,
    bootstrap_kappa_family,
    code_integers,
    coder_stats_from_coded,
    cohen_from_coded,
    coincidence_from_parts,
    encode,
    floor_to_monday,
    grouped_alpha,
    grouped_alpha_arrays,
    kappa_family,
    pairwise_kappa_from_coded,
    per_category_from_coded,
    pooled_confusion_from_coded,
    rating_pairs,
)
from annotator.models import Category, Dimension, Project
from annotator.ratings import AnnotationArrays, LabelArrays, read_project
from corpus.models import Document

# Krippendorff (2004, p. 241): rely on variables with alpha >= .800; consider
# .667 <= alpha < .800 only for tentative conclusions.
RELIABLE = 0.800
TENTATIVE = 0.667
OVER = ("week", "batch")


# --- the report ----------------------------------------------------------------------


def reading(value: float, low: float = math.nan, high: float = math.nan) -> str:
    """One line saying what an alpha means against the .667/.800 thresholds."""
    if not math.isfinite(value):
        return "Not enough double-coded units with variation to measure agreement."
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
    return f"α = {value:.3f}{interval} is {verdict}."


def band(value: float) -> str:
    """Colour band of an alpha: good, tentative, poor or none (undefined)."""
    if not math.isfinite(value):
        return "none"
    if value >= RELIABLE:
        return "good"
    return "tentative" if value >= TENTATIVE else "poor"


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
    intervals: dict[str, tuple[float, float]]  # 95% unit bootstrap, where available
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

    @property
    def estimate(self) -> AgreementResult:
        return self.alpha.estimate

    @property
    def band(self) -> str:
        return band(self.estimate.value)

    @property
    def reading(self) -> str:
        return reading(self.estimate.value, self.alpha.ci_low, self.alpha.ci_high)

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
                "alpha": {
                    "value": self.estimate.value,
                    "ci_low": self.alpha.ci_low,
                    "ci_high": self.alpha.ci_high,
                    "confidence": self.alpha.confidence,
                    "p_below": {f"{m:.3f}": p for m, p in self.alpha.p_below.items()},
                    "n_resamples": self.alpha.n_resamples,
                    "n_valid": self.alpha.n_valid,
                    "method": self.alpha.method,
                },
                "coefficients": {
                    name: {
                        **_result(r),
                        "ci_low": self.intervals.get(name, (None, None))[0],
                        "ci_high": self.intervals.get(name, (None, None))[1],
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

    def to_dict(self, documents_limit: int | None = None) -> dict[str, Any]:
        return {
            "project": {"id": self.project.pk, "name": self.project.name},
            "generated_at": self.generated_at.isoformat(),
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


def coder_medians(annotations: AnnotationArrays) -> dict[int, float]:
    """Median seconds per span of each coder, from every annotation (NaN ignored).

    One sort by value, then a stable sort by coder: each coder's times end up
    contiguous and in order, so every median is a lookup.
    """
    ok = np.isfinite(annotations.seconds)
    coder, seconds = annotations.coder[ok], annotations.seconds[ok]
    if len(coder) == 0:
        return {}
    labels, codes = code_integers(coder)
    if len(labels) <= 64:  # a few coders: one selection each beats a full sort
        return {
            int(u): float(np.median(seconds[codes == g])) for g, u in enumerate(labels)
        }
    by_value = np.argsort(seconds, kind="stable")
    order = by_value[np.argsort(codes[by_value], kind="stable")]
    v = seconds[order]
    counts = np.bincount(codes, minlength=len(labels))
    starts = np.cumsum(counts) - counts
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    return {
        int(u): float((v[a] + v[b]) / 2.0)
        for u, a, b in zip(labels, lo, hi, strict=True)
    }


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
) -> DimensionReport:
    """All coefficients and breakdowns for one dimension of a project.

    ``data`` is the dimension's ratings (read here when not given); the
    ``annotations`` are needed only for the coders' ``medians`` when those are
    not given. ``documents_limit`` keeps that many per-document rows (lowest
    alpha first); every document's alpha is computed either way, in one pass.
    """
    if over not in OVER:
        raise ValueError(f"over must be one of {OVER}, got {over!r}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if data is None:
        annotations, (data,) = read_project(project, [dimension])
    if medians is None:
        if annotations is None:
            annotations = read_project(project, [dimension], documents=False)[0]
        medians = coder_medians(annotations)
    del annotations  # only the medians needed them (memory)
    scale = data.categories
    level = data.level
    weights = "quadratic" if level == "ordinal" else "identity"
    coded = encode(
        data.unit,
        data.coder,
        data.value,
        level=level,
        categories=tuple(range(len(scale))),
    )
    w = agreement_weights(weights, coded.q)
    parts = alpha_parts(coded, level)
    boot = bootstrap_from_parts(parts, n_resamples=n_resamples, seed=seed)
    family = kappa_family(coded, weights)
    coefficients = {"krippendorff_alpha": boot.estimate}
    for name, result in family.items():
        coefficients[result.coefficient if name == "gwet" else name] = result
    if coded.n_coders == 2:
        coefficients["cohen_kappa"] = cohen_from_coded(coded, w, 0, 1)
    intervals = {"krippendorff_alpha": (boot.ci_low, boot.ci_high)}
    for name, interval in bootstrap_kappa_family(
        coded, weights, n_resamples=n_resamples, seed=seed
    ).items():
        intervals[family[name].coefficient if name == "gwet" else name] = interval
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
    documents, n_documents = _per_document(coded, data, level, documents_limit)
    over_time = _over_time(coded, data, level, over, batch_size)
    confusion = pooled_confusion_from_coded(coded, ij)
    labels = tuple(_scale_label(v, scale) for v in confusion.row_labels)
    coincidence = coincidence_from_parts(parts)
    return DimensionReport(
        key=dimension.key,
        label=dimension.label,
        level=level,
        weights=weights,
        categories=[(c.key, c.label) for c in scale],
        n_ratings=len(coded.unit),
        n_units_coded=coded.n_units,
        alpha=boot,
        coefficients=coefficients,
        intervals=intervals,
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
    )


def _usernames(user_ids: Sequence[Any]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=[int(u) for u in user_ids])
    return dict(users.values_list("pk", "username"))


def _per_document(
    coded: Coded, data: LabelArrays, level: str, limit: int | None
) -> tuple[list[GroupRow], int]:
    """Alpha within each document with pairable units: the ``limit`` worst, and how
    many there are. Undefined alphas sort last; ties put bigger documents first."""
    if data.document is None or len(coded.unit) == 0:
        return [], 0
    doc_labels, doc_codes = code_integers(data.document)
    arrays = grouped_alpha_arrays(coded, doc_codes.ravel(), len(doc_labels), level)
    used = np.flatnonzero(arrays.n_units > 0)
    value = arrays.value[used]
    undefined = ~np.isfinite(value)
    order = used[
        np.lexsort((-arrays.n_units[used], np.where(undefined, 0.0, value), undefined))
    ]
    if limit:
        order = order[:limit]
    rows = [GroupRow(int(doc_labels[i]), "", arrays.result(int(i))) for i in order]
    return rows, len(used)


def _over_time(
    coded: Coded, data: LabelArrays, level: str, over: str, batch_size: int
) -> list[GroupRow]:
    """Alpha per week (or batch of units) in which each unit's coding was completed.

    A unit belongs to the period of its last rating, so the two codings of a
    span made a week apart stay one unit instead of two single-coded ones.
    """
    if len(coded.unit) == 0:
        return []
    done = np.full(coded.n_units, -np.inf)
    np.maximum.at(done, coded.unit, np.nan_to_num(data.time, nan=-np.inf))
    if over == "batch":
        rank = np.empty(coded.n_units, dtype=np.int64)
        rank[np.argsort(done, kind="stable")] = np.arange(coded.n_units)
        unit_group = rank // batch_size
        labels = list(range(int(unit_group.max()) + 1))
        results = grouped_alpha(coded, unit_group[coded.unit], labels, level)
        size = np.bincount(unit_group)
        return [
            GroupRow(
                b,
                f"units {b * batch_size + 1}–{b * batch_size + int(size[b])}",
                r,
            )
            for b, r in results.items()
        ]
    seconds = np.where(np.isfinite(done), done, 0.0)
    mondays = floor_to_monday((seconds * 1e9).astype("datetime64[ns]"))
    day_labels, week_codes = code_integers(mondays.astype(np.int64))
    keys = [d.item() for d in day_labels.astype("datetime64[D]")]
    results = grouped_alpha(coded, week_codes.ravel()[coded.unit], keys, level)
    return [GroupRow(d, f"week of {d:%Y-%m-%d}", r) for d, r in results.items()]


def project_report(
    project: Project,
    *,
    dimensions: Sequence[Dimension] | None = None,
    over: str = "week",
    batch_size: int = 100,
    n_resamples: int = 1000,
    seed: int = 0,
    documents_limit: int | None = 50,
) -> ProjectReport:
    """The agreement report for every dimension of the project's codebook.

    ``documents_limit`` keeps the per-document rows of the worst documents
    (titles are looked up for those only); None keeps every document.
    """
    if dimensions is None:
        dimensions = list(project.codebook.dimensions.all())
    annotations, ratings = read_project(project, dimensions)
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
    return ProjectReport(project, reports)
