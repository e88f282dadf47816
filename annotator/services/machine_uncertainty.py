"""Writes a span's machine uncertainty to its work item, in bulk, for active learning.

predict_rest calls these inside its transaction: ``write`` once per batch of
predicted spans, ``clear_stale`` once at the end. No round trip per span: on
PostgreSQL one UPDATE joins the batch as a VALUES list; the portable twin runs
one prepared UPDATE over the batch (executemany). Both leave a row whose value
did not change alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Exists, OuterRef

from annotator.db import execute
from annotator.models import MachineLabel, WorkItem
from corpus.db import fast_path


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
            " WHERE w.project_id = %s AND w.span_id = v.span_id"
            # A row written is a new row version and an entry in every index:
            # a prediction that gives the same value writes nothing.
            " AND w.uncertainty IS DISTINCT FROM v.uncertainty",
            [*params, project_id],
        )
        return
    # One prepared statement run for the whole batch (executemany): in-process
    # on SQLite, where it is the fastest write measured (bulk_update's CASE
    # per row was ten times slower); pipelined by psycopg on PostgreSQL.
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE annotator_workitem SET uncertainty = %s"
            " WHERE project_id = %s AND span_id = %s"
            " AND (uncertainty IS NULL OR uncertainty <> %s)",
            [(u, project_id, span, u) for span, u in uncertainty],
        )


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
