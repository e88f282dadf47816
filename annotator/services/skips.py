"""A coder's skips: give a claimed span back with a reason, and take it back (undo).

The queue's counters stay what claims and submits expect: a work item's `taken`
counts live claims plus finished codings, so a skip gives its place back and an
undo takes a place again, only while the span still has one free for the coder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import Annotation, Assignment, Project, WorkItem
from annotator.services.queue import lock_coder, release_claims, release_lapsed
from annotator.services.text import typed_text

Status = Assignment.Status
NOT_YOURS = "This span is not assigned to you."
TAKEN_SINCE = (
    "Other coders have taken this span since you skipped it, and it needs no more "
    "coders: the skip stands."
)


def _lock_assignment(assignment: Assignment | int, coder) -> Assignment:
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("project")
        .filter(pk=pk)
        .first()
    )
    if locked is None or locked.coder_id != coder.pk:
        raise ValidationError(NOT_YOURS)
    return locked


@transaction.atomic
def skip_span(
    *, coder, assignment: Assignment | int, reason: str, now: datetime | None = None
) -> Assignment:
    """Give a claimed span back with a reason; the coder does not get it again
    unless they undo the skip (unskip_span)."""
    now = now or timezone.now()
    reason = typed_text(reason, field="reason", label="Skip reason")
    if not reason:
        raise ValidationError({"reason": "Say why you skip this span."})
    assignment = _lock_assignment(assignment, coder)
    if assignment.status != Status.CLAIMED:
        raise ValidationError("Only a span you currently hold can be skipped.")
    if Annotation.objects.filter(assignment_id=assignment.pk).exists():
        raise ValidationError(
            "You coded this span under an earlier codebook version and it changed "
            "since: code it again (it cannot be skipped)."
        )
    release_claims([(assignment.pk, assignment.work_item_id)], Status.SKIPPED, now)
    Assignment.objects.filter(pk=assignment.pk).update(skip_reason=reason[:500])
    assignment.refresh_from_db()
    return assignment


@transaction.atomic
def unskip_span(
    *, coder, assignment: Assignment | int, now: datetime | None = None
) -> Assignment:
    """Undo a skip: the span becomes the coder's live claim again, under a fresh
    lease, and the next claim serves it (it is their newest claim).

    Refused while it cannot be honoured: the assignment is not the coder's, it is
    not skipped, the coder no longer codes in the project, or other coders filled
    the span's places since. A claim the coder holds on another span stays theirs
    and comes back after this one.
    """
    now = now or timezone.now()
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    # The assignment's project, or for a hidden check the study its pool is of
    # (the pool has no members: the coder's lock and lapsed claims are the study's).
    found = (
        Assignment.objects.filter(pk=pk, coder=coder)
        .values_list("project_id", "project__pool_of_id", "project__lease_minutes")
        .first()
    )
    if found is None:
        raise ValidationError(NOT_YOURS)
    own, study, lease_minutes = found
    project = Project(pk=study or own, lease_minutes=lease_minutes)
    # The lock order of claims and submits: membership, assignment, work item.
    if lock_coder(project, coder, now):
        release_lapsed(project, now)  # their places count as free below
    assignment = _lock_assignment(pk, coder)
    if assignment.status != Status.SKIPPED:
        raise ValidationError(
            f"Only a skipped span can be taken back; this one is {assignment.status}."
        )
    item = WorkItem.objects.select_for_update().get(pk=assignment.work_item_id)
    if item.taken >= item.target:
        raise ValidationError(TAKEN_SINCE)
    WorkItem.objects.filter(pk=item.pk).update(taken=F("taken") + 1)
    Assignment.objects.filter(pk=assignment.pk).update(
        status=Status.CLAIMED,
        claimed_at=now,
        shown_at=None,  # the clock starts when the span is shown again
        expires_at=now + timedelta(minutes=project.lease_minutes),
        finished_at=None,
        skip_reason="",
    )
    assignment.refresh_from_db()
    return assignment
