"""The adjudication queue: spans waiting for a reviewer, most urgent first."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from annotator.models import (
    Assignment,
    Dimension,
    GoldLabel,
    GoldMethod,
    Label,
    Project,
    WorkItem,
)


def adjudication_queue(project: Project, *, below: float | None = None) -> QuerySet:
    """The project's spans waiting for a reviewer, as WorkItems, most urgent first.

    A span waits when at least two coders annotated it and some dimension that
    has ratings on it has no gold label (the rules did not decide it; an
    adjudicated label counts as decided), or, with ``below``, when an automatic
    gold label's posterior is under that threshold. Order: most ratings first,
    then most distinct codes (least agreement), then reading order. Each row is
    annotated with ``n_ratings`` and ``n_codes``. Call ``refresh_gold`` first so
    the gold labels reflect the latest annotations.
    """
    dimensions = list(Dimension.objects.filter(codebook_id=project.codebook_id))
    family: dict[str, list[int]] = {}
    for pk, key in (
        Dimension.objects.in_family_of(project.codebook_id)
        .filter(key__in=[d.key for d in dimensions])
        .values_list("pk", "key")
    ):
        family.setdefault(key, []).append(pk)
    span = OuterRef("span_id")
    labels = Label.objects.filter(project=project, span_id=span)
    golds = GoldLabel.objects.filter(project=project, span_id=span)
    disputed = Q(pk__in=[])
    for d in dimensions:
        disputed |= Exists(labels.filter(dimension_id__in=family[d.key])) & ~Exists(
            golds.filter(dimension_id=d.pk)
        )
    completed = (
        Assignment.objects.filter(
            project=project, span_id=span, status=Assignment.Status.COMPLETED
        )
        .order_by()
        .values("span_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    codes = (
        labels.order_by()
        .values("span_id")
        .annotate(n=Count("category_id", distinct=True))
        .values("n")
    )
    waiting = Q(target__gte=2, taken__gte=2) & disputed
    items = WorkItem.objects.filter(project=project).annotate(
        n_ratings=Coalesce(Subquery(completed), 0)
    )
    if below is not None:
        low = golds.filter(posterior__lt=below).exclude(method=GoldMethod.ADJUDICATED)
        items = items.filter((waiting & Q(n_ratings__gte=2)) | Exists(low))
    else:
        items = items.filter(waiting, n_ratings__gte=2)
    return items.annotate(n_codes=Coalesce(Subquery(codes), 0)).order_by(
        "-n_ratings", "-n_codes", "position"
    )
