"""A machine coder's data: the gold it learns from, its snapshot, the spans it codes.

The gold leaves out reference and hidden-check spans; the spans it codes are
those no human coded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from annotator.models import (
    Annotation,
    Dimension,
    GoldLabel,
    GoldLabelCategory,
    Project,
    ReferenceItem,
    WorkItem,
)
from annotator.training.pool import own_projects, pool_id
from corpus.models import Span

Code = str | frozenset[str]  # a category key, or a set of them (multi-choice)


@dataclass
class TrainingSet:
    """One dimension's gold, in span order: what a classifier is fitted on."""

    dimension: Dimension
    span_ids: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)  # the folds' groups
    texts: list[str] = field(default_factory=list)
    labels: list[Code] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.span_ids)


def held_out_spans(project: Project) -> Q:
    """Spans never trained on: the reference items (practice, test, checks) of the
    study or its pool, and every span the pool serves as a hidden check."""
    reference = ReferenceItem.objects.filter(
        project_id__in=own_projects(project)
    ).values("span_id")
    held = Q(span_id__in=reference)
    pool = pool_id(project)
    if pool is not None:
        held |= Q(span_id__in=WorkItem.objects.filter(project_id=pool).values("span"))
    return held


def training_gold(project: Project) -> QuerySet:
    """The project's gold labels of its codebook version, minus held-out spans."""
    return GoldLabel.objects.filter(
        project=project, codebook_id=project.codebook_id
    ).exclude(held_out_spans(project))


def training_sets(project: Project) -> dict[str, TrainingSet]:
    """Every dimension of the project's codebook version with its gold (possibly
    none), keyed by dimension key: three queries."""
    dimensions = list(
        Dimension.objects.filter(codebook_id=project.codebook_id).order_by(
            "position", "id"
        )
    )
    by_id = {d.pk: TrainingSet(d) for d in dimensions}
    gold = training_gold(project)
    sets_of: dict[int, set[str]] = {}
    multi = [d.pk for d in dimensions if d.multiple]
    if multi:
        for label_id, key in GoldLabelCategory.objects.filter(
            gold_label__in=gold.filter(dimension_id__in=multi)
        ).values_list("gold_label_id", "category__key"):
            sets_of.setdefault(label_id, set()).add(key)
    rows = gold.order_by("span_id", "dimension_id").values_list(
        "pk", "span_id", "span__document_id", "span__text", "dimension_id",
        "category__key",
    )  # fmt: skip
    for pk, span_id, document_id, text, dimension_id, key in rows:
        data = by_id.get(dimension_id)
        if data is None:
            continue
        data.span_ids.append(span_id)
        data.documents.append(document_id)
        data.texts.append(text)
        multiple = data.dimension.multiple
        data.labels.append(frozenset(sets_of.get(pk, ())) if multiple else key)
    return {data.dimension.key: data for data in by_id.values()}


def gold_snapshot(project: Project, sets: dict[str, TrainingSet]) -> dict:
    """What the gold was when trained on: counts, the newest decision, and a
    digest of the (span, dimension, code) triples, to tell later whether the
    gold has grown or changed since."""
    digest = hashlib.sha256()
    spans: set[int] = set()
    n_labels = 0
    for key, data in sorted(sets.items()):
        for span_id, code in zip(data.span_ids, data.labels, strict=True):
            text = "|".join(sorted(code)) if isinstance(code, frozenset) else code
            digest.update(f"{span_id}\t{key}\t{text}\n".encode())
            spans.add(span_id)
            n_labels += 1
    newest = (
        training_gold(project)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    return {
        "n_spans": len(spans),
        "n_labels": n_labels,
        "max_decided_at": newest.isoformat() if newest else None,
        "digest": digest.hexdigest(),
    }


def uncoded_spans(project: Project) -> QuerySet:
    """The project's codable spans that no human coded (in the study or as a
    check), held-out spans left out: what "code the rest" codes."""
    coded = Annotation.objects.filter(project_id__in=own_projects(project)).values(
        "assignment__span_id"
    )
    reference = ReferenceItem.objects.filter(project_id__in=own_projects(project))
    spans = (
        Span.objects.filter(document__corpus_id=project.corpus_id, excluded=False)
        .exclude(pk__in=coded)
        .exclude(pk__in=reference.values("span_id"))
    )
    pool = pool_id(project)
    if pool is not None:
        spans = spans.exclude(
            pk__in=WorkItem.objects.filter(project_id=pool).values("span")
        )
    return spans


def batches_of(spans: QuerySet, size: int) -> Iterator[list[tuple[int, str]]]:
    """(span id, text) pairs in id order, ``size`` at a time (keyset reads)."""
    after = 0
    while True:
        batch = list(
            spans.filter(pk__gt=after).order_by("pk").values_list("pk", "text")[:size]
        )
        if not batch:
            return
        yield batch
        after = batch[-1][0]
