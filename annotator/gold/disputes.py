"""What a reviewer reads of one span: gold labels, coders' codes, votes, history."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Prefetch

from annotator.models import (
    Annotation,
    Category,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    Label,
    Project,
)

Groups = list[tuple[Dimension, list[Category]]]


@dataclass(frozen=True)
class CoderCodes:
    """One coder's annotation of the span, as the adjudication card lists it."""

    name: str
    codes: list[list[str]]  # category labels per dimension, in codebook order
    uncertain: bool
    comment: str
    seconds: float | None


def gold_keys(label: GoldLabel | None) -> list[str]:
    """The category keys of a gold label (sorted for a multi-choice one)."""
    if label is None:
        return []
    if label.dimension.multiple:
        return sorted(c.category.key for c in label.categories.all())
    return [label.category.key] if label.category_id else []


def span_golds(project: Project, span_id: int) -> dict[int, GoldLabel]:
    """{dimension id: gold label} of the span, categories and reviewer loaded."""
    rows = (
        GoldLabel.objects.filter(project=project, span_id=span_id)
        .select_related("dimension", "category", "decided_by")
        .prefetch_related(
            Prefetch(
                "categories",
                queryset=GoldLabelCategory.objects.select_related("category"),
            )
        )
    )
    return {row.dimension_id: row for row in rows}


def coder_codes(
    project: Project, span_id: int, groups: Groups
) -> tuple[list[CoderCodes], dict[str, Counter]]:
    """Each coder's annotation of the span, and the votes per dimension key.

    Labels made under another codebook version count for the dimension and
    category with the same key.
    """
    annotations = (
        Annotation.objects.filter(project=project, assignment__span_id=span_id)
        .select_related("assignment__coder")
        .prefetch_related(
            Prefetch(
                "labels",
                queryset=Label.objects.select_related("dimension", "category").order_by(
                    "category__position", "category_id"
                ),
            )
        )
        .order_by("assignment__coder__username")
    )
    keys = [dimension.key for dimension, _ in groups]
    votes: dict[str, Counter] = {key: Counter() for key in keys}
    rows = []
    for annotation in annotations:
        codes: dict[str, list[str]] = {key: [] for key in keys}
        for label in annotation.labels.all():
            key = label.dimension.key
            if key in codes:
                codes[key].append(label.category.label)
                votes[key][label.category.key] += 1
        coder = annotation.assignment.coder
        rows.append(
            CoderCodes(
                name=coder.get_full_name() or coder.username,
                codes=[codes[key] for key in keys],
                uncertain=annotation.uncertain,
                comment=annotation.comment,
                seconds=annotation.seconds,
            )
        )
    return rows, votes


def decision_history(project: Project, span_id: int) -> list[GoldLabelRevision]:
    """Every reviewer's change to the span's gold labels, newest first.

    A revision stores category keys; each gets ``old_labels`` and ``new_labels``,
    the categories' labels a reviewer reads (the key where a category is gone)."""
    revisions = list(
        GoldLabelRevision.objects.filter(
            gold_label__project=project, gold_label__span_id=span_id
        )
        .select_related("changed_by", "gold_label__dimension")
        .order_by("-changed_at", "-id")
    )
    dimensions = {revision.gold_label.dimension_id for revision in revisions}
    labels = {
        (dimension_id, key): label
        for dimension_id, key, label in Category.objects.filter(
            dimension_id__in=dimensions
        ).values_list("dimension_id", "key", "label")
    } if dimensions else {}  # fmt: skip
    for revision in revisions:
        dimension_id = revision.gold_label.dimension_id
        for side in ("old", "new"):
            keys = (getattr(revision, side) or {}).get("categories", [])
            named = [labels.get((dimension_id, key), key) for key in keys]
            setattr(revision, f"{side}_labels", named)
    return revisions
