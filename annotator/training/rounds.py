"""Practice rounds and the certification test: start, serve, answer, finish, certify.

A round is a ``TrainingAttempt`` whose ``TrainingAnswer`` rows are its items in
the order served, made when it starts; an answer is checked as a submit is
(``services.labels.resolve_labels``) and matched against the reference at once
(``scoring.matches``). The last answer finishes the attempt: scored per dimension
(``scoring.agreement_with_reference``) against the project's thresholds, and a
passed test sets ``Membership.certified_at``, the gate's one bit. A manager's
decision by hand is an attempt too (kind ``manual``), so every decision is kept.
Nothing here reads another coder's answers or codes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotator.models import (
    Membership,
    Project,
    ReferenceItem,
    TrainingAnswer,
    TrainingAttempt,
)
from annotator.services.labels import codebook_dimensions, resolve_labels
from annotator.services.text import typed_text
from annotator.training.scoring import agreement_with_reference, matches

Kind = TrainingAttempt.Kind
USE = {Kind.PRACTICE: ReferenceItem.Use.PRACTICE, Kind.TEST: ReferenceItem.Use.TEST}
# Shuffles the items of a round; tests may put a seeded random.Random here.
RANDOM: random.Random = random.SystemRandom()
NOT_A_CODER = "Only the project's coders practise and take the certification test."
NO_ITEMS = {
    Kind.PRACTICE: "This project has no practice items yet: its reviewers mark "
    "them (Reference items). Ask them, or come back later.",
    Kind.TEST: "This project has no certification test items yet: its reviewers "
    "mark them (Reference items). Ask them, or come back later.",
}
NOT_OPEN = (
    "This item is not one of your open {kind} items (the round may have ended in "
    "another tab); nothing was saved."
)
TEST_NOT_DONE = "A certification test ends when its last item is answered."
NOTE_NEEDED = "Note: say why (required); the coder and the reviewers read it."


def thresholds(project: Project) -> dict:
    """The project's pass marks, as an attempt keeps them."""
    return {
        "min_alpha": project.certification_min_alpha,
        "min_percent": project.certification_min_percent,
        "gate": project.certification_gate,
    }


def _lock_coder(project: Project, coder) -> Membership:
    """The coder's membership, locked (one round start or decision at a time)."""
    membership = (
        Membership.objects.select_for_update()
        .filter(project=project, user=coder, role=Membership.Role.CODER)
        .first()
    )
    if membership is None:
        raise ValidationError(NOT_A_CODER)
    return membership


def open_attempt(project: Project, coder, kind: str) -> TrainingAttempt | None:
    """The coder's unfinished round of this kind, if any (at most one)."""
    return TrainingAttempt.objects.filter(
        project=project, coder=coder, kind=kind, finished_at__isnull=True
    ).first()


def items_available(project: Project) -> dict[str, int]:
    """{practice: n, test: n}: live items on the project's codebook version, and
    how many one test serves (one query)."""
    counts = (
        ReferenceItem.objects.current()
        .filter(project=project, codebook_id=project.codebook_id)
        .aggregate(
            practice=Count("pk", filter=Q(use=ReferenceItem.Use.PRACTICE)),
            test=Count("pk", filter=Q(use=ReferenceItem.Use.TEST)),
        )
    )
    per_test = project.certification_items or counts["test"]
    counts["per_test"] = min(per_test, counts["test"])
    return counts


@transaction.atomic
def start(*, project: Project, coder, kind: str, now: datetime | None = None):
    """The coder's open round of ``kind``, or a new one. A new round serves the
    live items of its use, those this coder was never served first, shuffled; a
    test serves ``certification_items`` of them (0: all). Refused in words when
    there are none. Starting practice again ends the open round (scored on what
    was answered); a test cannot be restarted, only finished."""
    _lock_coder(project, coder)
    current = open_attempt(project, coder, kind)
    if current is not None:
        return current
    items = list(
        ReferenceItem.objects.for_use(project, USE[kind]).values_list("pk", flat=True)
    )
    if not items:
        raise ValidationError(NO_ITEMS[kind])
    seen = set(
        TrainingAnswer.objects.filter(
            attempt__project=project, attempt__coder=coder, attempt__kind=kind
        ).values_list("item_id", flat=True)
    )
    fresh = [pk for pk in items if pk not in seen]
    again = [pk for pk in items if pk in seen]
    RANDOM.shuffle(fresh)
    RANDOM.shuffle(again)
    drawn = fresh + again
    if kind == Kind.TEST and project.certification_items:
        drawn = drawn[: project.certification_items]
    attempt = TrainingAttempt.objects.create(
        project=project,
        coder=coder,
        kind=kind,
        codebook_id=project.codebook_id,
        started_at=now or timezone.now(),
        thresholds=thresholds(project),
    )
    TrainingAnswer.objects.bulk_create(
        TrainingAnswer(attempt=attempt, item_id=pk, order=n)
        for n, pk in enumerate(drawn)
    )
    return attempt


def restart_practice(*, project: Project, coder, now: datetime | None = None):
    """A new practice round: the open one (if any) ends first, scored on what
    was answered."""
    with transaction.atomic():
        _lock_coder(project, coder)
        current = open_attempt(project, coder, Kind.PRACTICE)
        if current is not None:
            _finish(current, project, now or timezone.now())
    return start(project=project, coder=coder, kind=Kind.PRACTICE, now=now)


def served(attempt: TrainingAttempt) -> list[TrainingAnswer]:
    """The attempt's items in the order served, each with its reference item and
    span (one query)."""
    return list(attempt.answers.select_related("item").order_by("order"))


def next_item(answers: list[TrainingAnswer]) -> TrainingAnswer | None:
    """The first item not answered yet."""
    return next((a for a in answers if a.answered_at is None), None)


def labels_of(codebook_id: int, labels) -> dict[str, list[str]]:
    """Posted labels checked as a submit checks them, as {dimension key: [category
    keys]} with every dimension present (ValidationError keyed by dimension)."""
    given: dict[str, list[str]] = {key: [] for key in codebook_dimensions(codebook_id)}
    for _, category in resolve_labels(codebook_id, labels):
        given[category.dimension.key].append(category.key)
    return given


@transaction.atomic
def answer(
    *, coder, answer_id, kind: str, labels, now: datetime | None = None
) -> TrainingAnswer:
    """Record the coder's answer to one item of their open round of ``kind``.

    Checked as a submit is; matched against the reference per dimension; the
    seconds since the round started or the previous answer. Answering the same
    item again changes nothing (a double submit). The last item finishes the
    round (``finish``). Returns the answer with ``attempt`` and ``item`` loaded.
    """
    now = now or timezone.now()
    attempt = (
        TrainingAttempt.objects.select_for_update(of=("self",))
        .filter(coder=coder, kind=kind, answers__pk=answer_id)
        .select_related("project")
        .first()
        if str(answer_id).isdigit()
        else None
    )
    if attempt is None:
        raise ValidationError(NOT_OPEN.format(kind=Kind(kind).label))
    rows = served(attempt)
    row = next(a for a in rows if a.pk == int(answer_id))
    row.attempt = attempt
    if row.answered_at is not None:  # sent twice
        return row
    if attempt.finished_at is not None:  # a practice round ended meanwhile
        raise ValidationError(NOT_OPEN.format(kind=Kind(kind).label))
    given = labels_of(attempt.codebook_id, labels)
    previous = max(
        [a.answered_at for a in rows if a.answered_at] + [attempt.started_at]
    )
    row.labels = given
    row.matched = matches(row.item.codes, given)
    row.seconds = max((now - previous).total_seconds(), 0.0)
    row.answered_at = now
    row.save(update_fields=["labels", "matched", "seconds", "answered_at"])
    if all(a.answered_at is not None for a in rows):
        _finish(attempt, attempt.project, now)
    return row


@transaction.atomic
def finish(*, attempt: TrainingAttempt, now: datetime | None = None):
    """End a practice round early, scored on what was answered. A test ends only
    with its last answer (``answer``): an unanswered item is never left out."""
    attempt = TrainingAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.finished_at is not None:
        return attempt
    if attempt.kind != Kind.PRACTICE:
        raise ValidationError(TEST_NOT_DONE)
    return _finish(attempt, attempt.project, now or timezone.now())


def _finish(attempt: TrainingAttempt, project: Project, now: datetime):
    """Score the answered items per dimension against the project's thresholds;
    a passed test certifies the coder."""
    answers = [a for a in served(attempt) if a.answered_at is not None]
    marks = thresholds(project)
    dims = codebook_dimensions(attempt.codebook_id).values()
    results = agreement_with_reference(
        [d for d in dims if d.category_map],
        [(a.item.codes, a.labels) for a in answers],
        min_alpha=marks["min_alpha"],
        min_percent=marks["min_percent"],
    )
    passed = bool(results) and all(r.passed for r in results.values())
    attempt.results = {key: result.as_json() for key, result in results.items()}
    attempt.thresholds = marks
    attempt.passed = passed if attempt.kind == Kind.TEST else None
    attempt.finished_at = now
    attempt.save(update_fields=["results", "thresholds", "passed", "finished_at"])
    if attempt.kind == Kind.TEST and passed:
        Membership.objects.filter(
            project_id=attempt.project_id,
            user_id=attempt.coder_id,
            role=Membership.Role.CODER,
        ).update(certified_at=now)
    return attempt


@transaction.atomic
def certify(
    *,
    project: Project,
    coder,
    by,
    certified: bool,
    note: str,
    now: datetime | None = None,
) -> TrainingAttempt:
    """A manager certifies a coder by hand, or withdraws the certification, with
    a note: kept as a ``manual`` attempt; sets or clears ``certified_at``."""
    note = typed_text(note or "", field="note", label="Note")
    if not note:
        raise ValidationError({"note": NOTE_NEEDED})
    now = now or timezone.now()
    membership = _lock_coder(project, coder)
    attempt = TrainingAttempt.objects.create(
        project=project,
        coder=coder,
        kind=Kind.MANUAL,
        codebook_id=project.codebook_id,
        started_at=now,
        finished_at=now,
        passed=certified,
        thresholds=thresholds(project),
        note=note,
        decided_by=by,
    )
    membership.certified_at = now if certified else None
    membership.save(update_fields=["certified_at"])
    return attempt


@dataclass(frozen=True)
class TrainingPanel:
    """What the project page tells a coder about their training."""

    certified_at: datetime | None
    gate: str
    gate_label: str
    practice_items: int
    test_items: int
    last_test: TrainingAttempt | None

    @property
    def blocked(self) -> bool:
        return self.certified_at is None and self.gate == Project.Gate.REQUIRE


def coder_panel(user, project: Project) -> TrainingPanel | None:
    """The coder's training status for the project page; None (and no query) for
    anyone who does not code in the project."""
    if not user.is_authenticated:
        return None
    # access.project_for() loads the role; a project from elsewhere is asked.
    role = project.user_role if hasattr(project, "user_role") else project.role_of(user)
    if role != Membership.Role.CODER:
        return None
    certified_at = (
        Membership.objects.filter(project=project, user=user)
        .values_list("certified_at", flat=True)
        .first()
    )
    counts = items_available(project)
    last_test = (
        TrainingAttempt.objects.filter(
            project=project, coder=user, finished_at__isnull=False
        )
        .exclude(kind=Kind.PRACTICE)
        .order_by("-finished_at", "-pk")
        .first()
    )
    return TrainingPanel(
        certified_at=certified_at,
        gate=project.certification_gate,
        gate_label=project.get_certification_gate_display(),
        practice_items=counts["practice"],
        test_items=counts["per_test"],
        last_test=last_test,
    )
