"""The reviewers' and coders' lists narrowed by text, category and date.

Three lists take the same filters (finding_forms.ListFilterForm): the adjudication
queue (spans waiting: a text in the span, a category some coder chose there,
coded in the dates), the decisions (a text in the span, the category decided,
decided in the dates) and a coder's recent annotations (a text in the span, a
category they chose, coded in the dates). Every condition is a probe per row
along an index the list already walks (the span's primary key, Label's
(project, span) and (dimension, category) indexes), never a pass over the
project: the queue's head is found in its own order, its count is capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from operator import and_

from django.db.models import Exists, OuterRef, Q, QuerySet

from annotator.models import Category, Dimension, GoldLabelCategory, Label, Project
from annotator.services import codebook_groups
from corpus.models import Span

MAX_WORDS = 8
COUNT_CAP = 1000  # a filtered queue counts this far: "more than 1000"


@dataclass(frozen=True)
class ListFilters:
    words: tuple[str, ...] = ()
    category_ids: tuple[int, ...] | None = None  # None: any category
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive: the day after "until"

    @property
    def any(self) -> bool:
        return (
            bool(self.words)
            or self.category_ids is not None
            or bool(self.since or self.before)
        )


NO_FILTERS = ListFilters()


def category_choices(project: Project) -> list[tuple[str, str]]:
    """("dimension:category" key, label) for the project's codebook: no query for
    a codebook in use (services.codebook_groups' cache)."""
    return [
        (f"{dimension.key}:{category.key}", f"{dimension.label}: {category.label}")
        for dimension, categories in codebook_groups(project.codebook_id)
        for category in categories
    ]


def _day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def list_filters(project: Project, data: dict) -> ListFilters:
    """A valid ListFilterForm's cleaned data as filters; a category names every
    codebook version's category of that dimension and key (one query)."""
    ids = None
    if data.get("category"):
        dimension, key = data["category"].split(":", 1)
        dimensions = Dimension.objects.in_family_of(project.codebook_id)
        ids = tuple(
            Category.objects.filter(
                dimension__in=dimensions.filter(key=dimension), key=key
            ).values_list("pk", flat=True)
        )
    since, until = data.get("since"), data.get("until")
    return ListFilters(
        words=tuple((data.get("text") or "").split()[:MAX_WORDS]),
        category_ids=ids,
        since=_day(since) if since else None,
        before=_day(until) + timedelta(days=1) if until else None,
    )


def _span_has_words(filters: ListFilters, span: str) -> Q:
    texts = [Q(text__icontains=word) for word in filters.words]
    return Q(Exists(Span.objects.filter(reduce(and_, texts), pk=OuterRef(span))))


def _dates(filters: ListFilters, field: str) -> Q:
    q = Q()
    if filters.since:
        q &= Q(**{f"{field}__gte": filters.since})
    if filters.before:
        q &= Q(**{f"{field}__lt": filters.before})
    return q


def narrow_waiting(queue: QuerySet, project: Project, filters: ListFilters) -> QuerySet:
    """The adjudication queue (GoldWaiting or live WorkItem rows, with span_id)
    under the filters, in its own order."""
    if filters.words:
        queue = queue.filter(_span_has_words(filters, "span_id"))
    if filters.category_ids is not None or filters.since or filters.before:
        labels = Label.objects.filter(project=project, span_id=OuterRef("span_id"))
        if filters.category_ids is not None:
            labels = labels.filter(category_id__in=filters.category_ids)
        labels = labels.filter(_dates(filters, "annotation__created_at"))
        queue = queue.filter(Exists(labels))
    return queue


def capped_count(queue: QuerySet) -> int:
    """Rows up to COUNT_CAP + 1: a filtered queue's count reads no further."""
    return queue.order_by()[: COUNT_CAP + 1].count()


def narrow_decided(labels: QuerySet, filters: ListFilters) -> QuerySet:
    """Gold labels (the decisions list) under the filters."""
    if filters.words:
        labels = labels.filter(_span_has_words(filters, "span_id"))
    if filters.category_ids is not None:
        chosen = GoldLabelCategory.objects.filter(
            gold_label=OuterRef("pk"), category_id__in=filters.category_ids
        )
        labels = labels.filter(
            Q(category_id__in=filters.category_ids) | Q(Exists(chosen))
        )
    return labels.filter(_dates(filters, "decided_at"))


def narrow_recent(annotations: QuerySet, filters: ListFilters) -> QuerySet:
    """A coder's annotations under the filters."""
    if filters.words:
        annotations = annotations.filter(
            _span_has_words(filters, "assignment__span_id")
        )
    if filters.category_ids is not None:
        chosen = Label.objects.filter(
            annotation=OuterRef("pk"), category_id__in=filters.category_ids
        )
        annotations = annotations.filter(Exists(chosen))
    return annotations.filter(_dates(filters, "created_at"))
