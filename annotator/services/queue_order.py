"""Where a claim looks for a coder's next span, in the order tried.

Each candidate is a function of the row-lock clause returning one pick (a
statement selecting one work item: annotator/services/queue_sql.py);
services.queue runs them in order, as one statement on PostgreSQL.

The order: spans another coder started (agreement data early), next in the
coder's current document first; then untouched spans, again continuing the
coder's document; then, the last resort, any started span still needing
coders, past the coder's place first.

With active learning on (Project.active_learning) only the untouched part
changes: untouched spans of the reliability sample come first, as before (the
coder's document, then reading order), so the sample keeps its random draw and
its order; then the single-coded remainder most uncertain first (the machine
coder's last prediction, services.machine_uncertainty; ties in reading order);
then the untouched spans without an uncertainty, in reading order. Each step
is one probe of a partial index (workitem_sample_fresh_idx,
workitem_uncertain_idx, workitem_fresh_idx).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from annotator.services import queue_sql as sql
from annotator.services.queue_sql import DOCUMENT_SHIFT

Candidate = Callable[[str], str]


def _where(condition: str, order: str = sql.READING_ORDER) -> Candidate:
    return partial(sql.candidate_sql, condition, order=order)


# The last resort (see queue._claim): every started span with room, however far
# from the window, so "nothing left" is said only when no span needs this coder.
# It walks past the coder's own started spans, so it runs only when nothing else
# is left.
ANY_STARTED = _where(sql.STARTED_ANYWHERE)
FRESH = _where(sql.FRESH)


def _fresh(here: bool, active_learning: bool) -> list[Candidate]:
    """The untouched spans' candidates (``here``: the coder has a document)."""
    if not active_learning:
        near = [_where(f"{sql.FRESH} AND {sql.HERE}")] if here else []
        return [*near, FRESH]
    near = [_where(f"{sql.SAMPLE_FRESH} AND {sql.HERE}")] if here else []
    return [
        *near,
        _where(sql.SAMPLE_FRESH),
        _where(sql.UNCERTAIN_REMAINDER, order=sql.MOST_UNCERTAIN),
        FRESH,
    ]


def candidates(
    params: dict, document_id: int | None, position: int | None, active_learning: bool
) -> list[Candidate]:
    """The claim's candidates in the order tried; adds to ``params`` what
    continuing the coder's document needs (their place: ``document_id`` and
    ``position`` of their latest submit, None before their first)."""
    if document_id is None:
        return [sql.started_sql, *_fresh(False, active_learning), ANY_STARTED]
    end_of_document = ((position >> DOCUMENT_SHIFT) + 1) << DOCUMENT_SHIFT
    params.update(document=document_id, position=position, end=end_of_document)
    return [
        _where(f"{sql.STARTED_ANYWHERE} AND {sql.HERE}"),
        sql.started_sql,
        *_fresh(True, active_learning),
        _where(sql.STARTED_AFTER_PLACE),
        ANY_STARTED,
    ]
