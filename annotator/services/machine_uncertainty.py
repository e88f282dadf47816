"""Writes a span's machine uncertainty to its work item, in bulk, for active learning.

predict_rest calls these inside its transaction: ``write`` once per batch of
predicted spans, ``clear_stale`` once at the end. No UPDATE per span: on
PostgreSQL one UPDATE joins the batch as a VALUES list; the portable twin reads
the batch's work item ids and writes them with bulk_update.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, OuterRef

from annotator.db import execute
from annotator.models import MachineLabel, WorkItem
from corpus.db import fast_path

# Rows per bulk_update statement of the portable twin (a CASE per row: kept small).
TWIN_CHUNK = 500


def write(project_id: int, uncertainty: Sequence[tuple[int, float]]) -> None:
    """Set each (span id, uncertainty)'s work item in the project."""
    if not uncertainty:
        return
    if fast_path("uncertainty-values-join"):
        values = ", ".join(["(%s, %s::double precision)"] * len(uncertainty))
        params = [x for pair in uncertainty for x in pair]
        execute(
            "UPDATE annotator_workitem AS w SET uncertainty = v.uncertainty"
            f" FROM (VALUES {values}) AS v(span_id, uncertainty)"
            " WHERE w.project_id = %s AND w.span_id = v.span_id",
            [*params, project_id],
        )
        return
    by_span = dict(uncertainty)
    items = [
        WorkItem(pk=pk, uncertainty=by_span[span])
        for pk, span in WorkItem.objects.filter(
            project_id=project_id, span_id__in=list(by_span)
        ).values_list("pk", "span_id")
    ]
    WorkItem.objects.bulk_update(items, ["uncertainty"], batch_size=TWIN_CHUNK)


def clear_stale(project_id: int) -> int:
    """Forget the uncertainty of spans the machine no longer codes (a human
    coded them since, or they left the corpus's codable spans): those without a
    machine label now. Returns how many were cleared."""
    labelled = MachineLabel.objects.filter(
        project_id=project_id, span_id=OuterRef("span_id")
    )
    return (
        WorkItem.objects.filter(project_id=project_id, uncertainty__isnull=False)
        .exclude(Exists(labelled))
        .update(uncertainty=None)
    )
