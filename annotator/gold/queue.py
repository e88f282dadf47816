"""The adjudication queue: spans waiting for a reviewer, most urgent first.

The rule lives here once (``waiting_live``, a query over labels, gold labels and
assignments); ``GoldWaiting`` is that rule's result, re-derived by
``rebuild_waiting`` wherever gold changes (a refresh, in its transaction; an
adjudication, for its span), so the queue reads a small indexed table.
"""

from __future__ import annotations

import numpy as np
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from annotator.gold.reading import chunks
from annotator.models import (
    Assignment,
    Dimension,
    GoldLabel,
    GoldMethod,
    GoldWaiting,
    Label,
    Project,
    WorkItem,
)

ORDER = ("-n_ratings", "-n_codes", "position")
COLUMNS = ("project_id", "span_id", "n_ratings", "n_codes", "position")


def waiting_live(
    project: Project, *, below: float | None = None, spans: list[int] | None = None
) -> QuerySet[WorkItem]:
    """The spans waiting for a reviewer, computed from the current rows.

    A span waits when at least two coders annotated it and some dimension that
    has ratings on it has no gold label (the rules did not decide it; an
    adjudicated label counts as decided), or, with ``below``, when an automatic
    gold label's posterior is under that threshold. Order: most ratings first,
    then most distinct codes (least agreement), then reading order. Each row is
    a WorkItem annotated with ``n_ratings`` and ``n_codes``; ``spans`` limits it
    to those span ids.
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
    waiting = Q(target__gte=2, taken__gte=2, n_ratings__gte=2) & disputed
    items = WorkItem.objects.filter(project=project)
    if spans is not None:
        items = items.filter(span_id__in=spans)
    items = items.annotate(n_ratings=Coalesce(Subquery(completed), 0))
    if below is not None:
        low = golds.filter(posterior__lt=below).exclude(method=GoldMethod.ADJUDICATED)
        items = items.filter(waiting | Exists(low))
    else:
        items = items.filter(waiting)
    return items.annotate(n_codes=Coalesce(Subquery(codes), 0)).order_by(*ORDER)


def adjudication_queue(
    project: Project, *, below: float | None = None
) -> QuerySet[GoldWaiting] | QuerySet[WorkItem]:
    """The project's spans waiting for a reviewer, most urgent first.

    Rows have ``span_id``, ``n_ratings`` and ``n_codes``. Without ``below``
    they are the ``GoldWaiting`` rows (the rule as of the last refresh or
    decision: an index range scan); with it, the rule computed live, since the
    threshold is the reviewer's choice (``waiting_live``). Call
    ``refresh_gold`` first so the gold labels reflect the latest annotations.
    """
    if below is not None:
        return waiting_live(project, below=below)
    return GoldWaiting.objects.filter(project=project).order_by(*ORDER)


def rebuild_waiting(project: Project, spans: np.ndarray | None = None) -> None:
    """Re-derive the project's ``GoldWaiting`` rows (only ``spans``' if given)
    from ``waiting_live``: one DELETE and one INSERT … SELECT per chunk, no rows
    through Python. Call inside the transaction that changed the gold."""
    rows = GoldWaiting.objects.filter(project=project)
    parts = [None] if spans is None else list(chunks(spans))
    table = GoldWaiting._meta.db_table
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        for part in parts:
            # Nothing refers to these rows: one DELETE, no collector pass.
            (rows if part is None else rows.filter(span_id__in=part)).delete()
            live = waiting_live(project, spans=part).order_by().values(*COLUMNS)
            sql, params = live.query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                f"SELECT {columns} FROM ({sql}) AS live",
                params,
            )
