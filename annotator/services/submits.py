"""A coder's writes on a claimed span: submit, revise and replay (skips: skips.py).

Submits are the coders' hot path with claims: the first submit of a span is fixed
SQL (one statement on PostgreSQL), the rare paths (revisions, replays) stay
in the ORM. All or nothing; bad input raises ValidationError and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.db import (
    db_time,
    execute,
    fetch_row,
    fetch_rows,
    for_update,
    from_row,
)
from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Category,
    Codebook,
    Label,
    Project,
    WorkItem,
)
from annotator.models.annotations import keys_by_dimension
from annotator.services.closed import CLOSED, ProjectClosed
from annotator.services.labels import Chosen, resolve_labels
from annotator.services.text import typed_text
from annotator.suggestions import Suggestion, kept
from corpus.db import fast_path
from corpus.models import Span

Status = Assignment.Status
Resolved = list[tuple[int, Category]]

# The coder's membership first, the lock claims take first too (see
# queue.lock_member). A removed member holds no lock to take: they can no longer
# claim either. A hidden check's assignment is in the study's pool, which has no
# members: the study's membership is locked (one lock order for both).
LOCK_SUBMITTER = (
    "SELECT id FROM annotator_membership WHERE user_id = %s"
    " AND project_id = (SELECT COALESCE(p.pool_of_id, p.id)"
    " FROM annotator_assignment AS a JOIN annotator_project AS p ON p.id = a.project_id"
    " WHERE a.id = %s)"
)
# Then the assignment, with what the submit checks and what its caller answers
# with: the project's codebook (its version), the span, an earlier annotation.
SUBMIT_STATE = """
SELECT a.id, a.project_id, a.work_item_id, a.span_id, a.coder_id, a.status,
       a.claimed_at, a.shown_at, a.expires_at, a.finished_at, a.skip_reason,
       p.codebook_id, p.lease_minutes, c.version, s.document_id, s."index", s.text,
       n.id, p.closed_at IS NOT NULL
FROM annotator_assignment AS a
JOIN annotator_project AS p ON p.id = a.project_id
JOIN annotator_codebook AS c ON c.id = p.codebook_id
JOIN corpus_span AS s ON s.id = a.span_id
LEFT JOIN annotator_annotation AS n ON n.assignment_id = a.id
WHERE a.id = %s
"""
# The project's next change number (models.ChangeCounter). Its row stays locked
# until the write commits, so numbers commit in order and a gold refresh that read n
# has seen every change up to n: exact, where timestamps taken before commit are not.
# It costs writers of one project a queue on that row for the last statement and the
# commit; taken last for that reason (bench/RESULTS.md has the figures).
NEXT_CHANGE = (
    "INSERT INTO annotator_changecounter (project_id, n) VALUES (%s, 1)"
    " ON CONFLICT (project_id) DO UPDATE SET n = annotator_changecounter.n + 1"
    " RETURNING n"
)
ANNOTATION_COLUMNS = (
    "assignment_id, project_id, codebook_id, uncertain, comment, seconds,"
    " submission_token, created_at, updated_at, change"
)
INSERT_ANNOTATION = (
    f"INSERT INTO annotator_annotation ({ANNOTATION_COLUMNS})"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
COMPLETE = (
    "UPDATE annotator_assignment SET status = 'completed', finished_at = %s"
    " WHERE id = %s"
)
LABEL_COLUMNS = (
    "annotation_id, project_id, span_id, coder_id, dimension_id, category_id"
)


def store_in_one(n_labels: int) -> str:
    """PostgreSQL: a first submit's change number, annotation, labels and the
    assignment's new status in one statement (one round trip where four were)."""
    labels = ""
    label_ids = "ARRAY[]::bigint[]"
    if n_labels:
        chosen = ", ".join(["(%s::bigint, %s::bigint)"] * n_labels)
        labels = (
            f" labels AS (INSERT INTO annotator_label ({LABEL_COLUMNS})"
            " SELECT annotation.id, %s, %s, %s, chosen.dimension_id,"
            f" chosen.category_id FROM annotation, (VALUES {chosen})"
            " AS chosen (dimension_id, category_id) RETURNING id),"
        )
        # Ids come from one sequence in VALUES order: sorted, they pair up.
        label_ids = "ARRAY(SELECT id FROM labels ORDER BY id)"
    annotation = (
        f"INSERT INTO annotator_annotation ({ANNOTATION_COLUMNS})"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, change.n FROM change RETURNING id"
    )
    return (
        f"WITH change AS ({NEXT_CHANGE}), annotation AS ({annotation}),{labels}"
        f" completed AS ({COMPLETE})"
        f" SELECT annotation.id, {label_ids}, (SELECT n FROM change) FROM annotation"
    )


def _locked_for_submit(pk: int, coder) -> tuple[Assignment, int | None]:
    """Lock the coder's membership, then the assignment: (it, its annotation's id).

    The assignment comes with its project (codebook, lease), codebook (version)
    and span (document, index, text) loaded, each with just those fields.
    """
    fetch_row(LOCK_SUBMITTER + for_update(), [coder.pk, pk])
    row = fetch_row(SUBMIT_STATE + for_update("a"), [pk])
    if row is None or row[4] != coder.pk:
        raise ValidationError("This span is not assigned to you.")
    (pk, project_id, item_id, span_id, coder_id, status, claimed_at, shown_at,
     expires_at, finished_at, skip_reason, codebook_id, lease_minutes, version,
     document_id, index, text, annotation_id, closed) = row  # fmt: skip
    if closed:
        raise ProjectClosed(CLOSED)
    assignment = from_row(
        Assignment, id=pk, project_id=project_id, work_item_id=item_id,
        span_id=span_id, coder_id=coder_id, status=status,
        claimed_at=claimed_at, shown_at=shown_at, expires_at=expires_at,
        finished_at=finished_at, skip_reason=skip_reason,
    )  # fmt: skip
    assignment.project = from_row(
        Project, id=project_id, codebook_id=codebook_id, lease_minutes=lease_minutes
    )
    assignment.project.codebook = from_row(Codebook, id=codebook_id, version=version)
    assignment.span = from_row(
        Span, id=span_id, document_id=document_id, index=index, text=text
    )
    assignment.coder = coder
    return assignment, annotation_id


def _renew_lapsed_claim(assignment: Assignment, now: datetime) -> None:
    """Accept work on a lapsed claim while the span still has room for this coder."""
    if assignment.status == Status.CLAIMED:
        # Live, or lapsed but not yet released by anyone: the place is still ours.
        return
    item = WorkItem.objects.select_for_update().get(pk=assignment.work_item_id)
    if item.taken >= item.target:
        raise ValidationError(
            "Your claim on this span lapsed after "
            f"{assignment.project.lease_minutes} minutes without a submit, and other "
            "coders have since taken it; nothing was saved. Go on to the next span."
        )
    WorkItem.objects.filter(pk=item.pk).update(taken=F("taken") + 1)


@transaction.atomic
def submit_annotation(
    *,
    coder,
    assignment: Assignment | int,
    labels: Mapping[str, Chosen],
    uncertain: bool = False,
    comment: str = "",
    token: str = "",
    now: datetime | None = None,
    suggestion: Suggestion | None = None,
) -> Annotation:
    """Save (or revise) the coder's annotation of an assigned span, all or nothing.

    `suggestion`: the machine suggestion the coding screen showed with the span
    (annotator.suggestions, verified by the caller); a first submit records it and
    whether the codes kept it, one statement more. A revision keeps what the
    first submit recorded.

    Idempotent: a resent submit with the same token, or with unchanged content,
    returns the stored annotation and writes nothing. A changed submit of a finished
    assignment is a revision, recorded with who, when, old and new.

    The returned annotation has `created` (True when this call stored it, False for
    a replay or a revision), its labels loaded, its codebook's version, and its
    assignment with the span (id, document, index, text) and project: callers can
    answer without reading it back.
    """
    now = now or timezone.now()
    comment = typed_text(comment, field="comment", label="Comment")
    typed_text(token, field="token", label="Token")  # checked, kept as sent
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    assignment, annotation_id = _locked_for_submit(pk, coder)
    if annotation_id is not None:
        return _resubmit(
            assignment, annotation_id, coder, labels, uncertain, comment, token, now
        )
    if assignment.status == Status.SKIPPED:
        raise ValidationError("You skipped this span; it is no longer yours to code.")
    codebook = assignment.project.codebook
    resolved = resolve_labels(codebook, labels)
    _renew_lapsed_claim(assignment, now)
    started = assignment.shown_at or assignment.claimed_at
    seconds = max((now - started).total_seconds(), 0.0)
    stored_at = timezone.now()
    row = [
        assignment.pk, assignment.project_id, codebook.pk, uncertain, comment,
        seconds, token, db_time(stored_at), db_time(stored_at),
    ]  # fmt: skip
    completed = [db_time(now), assignment.pk]
    label_ids = None
    if fast_path("submit-in-one-statement"):
        who = [assignment.project_id, assignment.span_id, assignment.coder_id]
        chosen = [v for _, c in resolved for v in (c.dimension_id, c.pk)]
        annotation_id, label_ids, change = fetch_row(
            store_in_one(len(resolved)),
            [assignment.project_id]
            + row
            + (who + chosen if resolved else [])
            + completed,
        )
    else:
        execute(COMPLETE, completed)
        change = next_change(assignment.project_id)
        (annotation_id,) = fetch_row(INSERT_ANNOTATION, [*row, change])
    annotation = from_row(
        Annotation, id=annotation_id, assignment_id=assignment.pk,
        project_id=assignment.project_id, codebook_id=codebook.pk,
        uncertain=uncertain, comment=comment, seconds=seconds,
        submission_token=token, created_at=stored_at, updated_at=stored_at,
        change=change,
    )  # fmt: skip
    annotation.assignment, annotation.codebook = assignment, codebook
    if label_ids is None:
        label_ids = _insert_labels(annotation, resolved)
    _keep_labels(
        annotation, resolved, dict(zip(_ids(resolved), label_ids, strict=True))
    )
    assignment.status, assignment.finished_at = Status.COMPLETED, now
    if suggestion is not None:
        _record_suggestion(annotation, suggestion)
    annotation.created = True
    return annotation


def _record_suggestion(annotation: Annotation, suggestion: Suggestion) -> None:
    """Store what was suggested and whether the codes kept it (anchoring)."""
    annotation.suggestion = suggestion.record()
    annotation.suggestion_kept = kept(suggestion.labels, annotation.label_keys())
    Annotation.objects.filter(pk=annotation.pk).update(
        suggestion=annotation.suggestion, suggestion_kept=annotation.suggestion_kept
    )


def next_change(project_id: int) -> int:
    """Number a write that changes the project's annotations (see NEXT_CHANGE);
    call it inside the write's transaction, as late as possible."""
    (change,) = fetch_row(NEXT_CHANGE, [project_id])
    return change


def _ids(resolved: Resolved) -> list[int]:
    return [category.pk for _, category in resolved]


def _insert_labels(annotation: Annotation, resolved: Resolved) -> list[int]:
    """Insert labels of the annotation for these categories; their ids, in order."""
    if not resolved:
        return []
    assignment = annotation.assignment
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(resolved))
    ids = fetch_rows(
        f"INSERT INTO annotator_label ({LABEL_COLUMNS}) VALUES {rows} RETURNING id",
        [
            value
            for _, category in resolved
            for value in (
                annotation.pk,
                assignment.project_id,
                assignment.span_id,
                assignment.coder_id,
                category.dimension_id,
                category.pk,
            )  # fmt: skip
        ],
    )
    return [pk for (pk,) in ids]


def _keep_labels(
    annotation: Annotation, resolved: Resolved, label_id: Mapping[int, int]
) -> None:
    """The annotation's stored labels as instances on it (no re-read), given each
    category's label id."""
    assignment = annotation.assignment
    labels = []
    for _, category in resolved:
        label = from_row(
            Label, id=label_id[category.pk], annotation_id=annotation.pk,
            project_id=assignment.project_id, span_id=assignment.span_id,
            coder_id=assignment.coder_id, dimension_id=category.dimension_id,
            category_id=category.pk,
        )  # fmt: skip
        label.annotation, label.dimension, label.category = (
            annotation, category.dimension, category
        )  # fmt: skip
        labels.append(label)
    annotation._prefetched_objects_cache = {"labels": labels}


def _state(annotation: Annotation) -> dict:
    return {
        "labels": annotation.label_keys(),
        "uncertain": annotation.uncertain,
        "comment": annotation.comment,
    }


def _resubmit(
    assignment: Assignment,
    annotation_id: int,
    coder,
    labels: Mapping[str, Chosen],
    uncertain: bool,
    comment: str,
    token: str,
    now: datetime,
) -> Annotation:
    """A submit for an assignment already annotated: a replay, or a revision.

    An unchanged submit writes nothing; a revision rewrites only the labels that
    changed, so the others keep their ids. An annotation handed back to be coded
    again (services.codebook_move: its assignment is not completed) is completed
    by this submit, changed or not.
    """
    existing = (
        Annotation.objects.select_related("codebook")
        .with_labels()
        .get(pk=annotation_id)
    )
    existing.assignment = assignment
    existing.created = False
    if token and existing.submission_token == token:
        return existing
    if assignment.status == Status.SKIPPED:
        raise ValidationError("You skipped this span; it is no longer yours to code.")
    resolved = resolve_labels(existing.codebook, labels)
    old = _state(existing)
    new = {
        "labels": keys_by_dimension((c.dimension.key, c.key) for _, c in resolved),
        "uncertain": uncertain,
        "comment": comment,
    }
    recoding = assignment.status in (Status.CLAIMED, Status.RECODE)
    if recoding:
        execute(COMPLETE, [db_time(now), assignment.pk])
        assignment.status, assignment.finished_at = Status.COMPLETED, now
    if new == old:
        return existing
    stored = {label.category_id: label.pk for label in existing.labels.all()}
    wanted = set(_ids(resolved))
    gone = [pk for category_id, pk in stored.items() if category_id not in wanted]
    if gone:
        Label.objects.filter(pk__in=gone).delete()
    added = [(d, category) for d, category in resolved if category.pk not in stored]
    stored.update(zip(_ids(added), _insert_labels(existing, added), strict=True))
    _keep_labels(existing, resolved, stored)
    existing.uncertain, existing.comment = uncertain, new["comment"]
    existing.submission_token = token
    existing.change = next_change(assignment.project_id)
    existing.save()
    AnnotationRevision.objects.create(
        annotation=existing, changed_by=coder, old=old, new=new
    )
    return existing
