"""Hidden checks scored: pool answers against the reference, rolling accuracy, alerts.

A coder's answer to a check is an ordinary annotation in the study's reference
pool (training.pool). ``score_pending`` turns the pool's annotations written
since the last scoring (the pool's change numbers, models.ChangeCounter) into
``CheckAnswer`` rows; everything else here reads those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Case, Exists, Max, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from annotator.models import (
    Annotation,
    ChangeCounter,
    CheckAnswer,
    Label,
    Project,
    ReferenceItem,
)
from annotator.models.annotations import keys_by_dimension
from annotator.training.scoring import matches

# An alert needs this many answers in the window: fewer say too little.
MIN_ALERT_ANSWERS = 5


@dataclass(frozen=True)
class CheckAlert:
    """A coder whose rolling accuracy on one dimension is below the threshold."""

    coder: int  # user id
    username: str
    dimension: str
    accuracy: float  # rolling, over the last ``n`` answers
    n: int


@dataclass(frozen=True)
class Answer:
    """One scored check answer, as the readers here use it."""

    coder: int
    at: datetime
    matched: dict[str, bool]
    correct: bool
    item: int = 0
    labels: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Point:
    """The rolling accuracy after the ``n``-th answer (per dimension, and with
    every dimension right), over the last ``window`` answers up to it."""

    n: int
    at: datetime
    correct: bool
    accuracy: dict[str, float]
    all_right: float
    window: int


def _pending(project: Project):
    """The pool's annotations above the highest change already scored, not
    already scored at that change. A pool whose counter is below that mark was
    rebuilt (an archive restored: its numbers start again), so then every
    answer of the pool is looked at, and only the unscored ones come back."""
    pool_annotations = Annotation.objects.filter(project__pool_of_id=project.pk)
    top = (
        CheckAnswer.objects.filter(project=project)
        .order_by()
        .values("project")
        .annotate(top=Max("change"))
        .values("top")
    )
    top = Coalesce(Subquery(top), Value(-1))
    counter = Subquery(
        ChangeCounter.objects.filter(project__pool_of_id=project.pk).values("n")[:1]
    )
    mark = Case(When(GreaterThanOrEqual(counter, top), then=top), default=Value(-1))
    done = CheckAnswer.objects.filter(
        project=project,
        coder_id=OuterRef("assignment__coder_id"),
        item__span_id=OuterRef("assignment__span_id"),
        change=OuterRef("change"),
    )
    return (
        pool_annotations.filter(change__gt=mark)
        .exclude(Exists(done))
        .order_by("change")
        .values_list(
            "pk",
            "assignment__coder_id",
            "assignment__span_id",
            "assignment__finished_at",
            "created_at",
            "change",
        )
    )


def score_pending(project: Project) -> int:
    """Score the pool's new and revised answers; how many rows were written.

    One query when nothing is new; otherwise two more reads and one upsert, in one
    transaction. Idempotent: an answer is scored again only when its change
    number moved (a revision). Labels and reference codes are compared by keys
    (training.scoring.matches), so a category keeps its meaning across versions.
    """
    rows = list(_pending(project))
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    pairs: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    for annotation_id, dimension, category in Label.objects.filter(
        annotation_id__in=ids
    ).values_list("annotation_id", "dimension__key", "category__key"):
        pairs[annotation_id].append((dimension, category))
    items, codes = {}, {}
    for span, pk, reference in ReferenceItem.objects.filter(
        project=project, span_id__in={row[2] for row in rows}
    ).values_list("span_id", "pk", "codes"):
        items[span], codes[pk] = pk, reference
    answers = {}
    for pk, coder, span, finished_at, created_at, change in rows:
        item = items.get(span)
        if item is None:  # the reference item is gone: nothing to score against
            continue
        labels = keys_by_dimension(pairs[pk])
        matched = matches(codes[item], labels)
        answers[item, coder] = CheckAnswer(
            project=project,
            coder_id=coder,
            item_id=item,
            labels=labels,
            matched=matched,
            correct=all(matched.values()),
            answered_at=finished_at or created_at,
            change=change,
        )
    with transaction.atomic():
        CheckAnswer.objects.bulk_create(
            answers.values(),
            update_conflicts=True,
            unique_fields=["item", "coder"],
            update_fields=["labels", "matched", "correct", "answered_at", "change"],
        )
    return len(answers)


def read_answers(project: Project, coder: int | None = None) -> list[Answer]:
    """The project's scored answers (or one coder's), oldest first, with each
    item's reference codes: one query."""
    rows = CheckAnswer.objects.filter(project=project)
    if coder is not None:
        rows = rows.filter(coder_id=coder)
    return [
        Answer(coder, at, matched, correct, item, labels, reference)
        for coder, at, matched, correct, item, labels, reference in rows.order_by(
            "answered_at", "pk"
        ).values_list(
            "coder_id",
            "answered_at",
            "matched",
            "correct",
            "item_id",
            "labels",
            "item__codes",
        )
    ]


def dimensions_of(answers: Iterable[Answer], order: Sequence[str] = ()) -> list[str]:
    """The dimension keys the answers were scored on, in ``order`` first."""
    seen = {key for a in answers for key in a.matched}
    return [k for k in order if k in seen] + sorted(seen - set(order))


def rolling(answers: Sequence[Answer], window: int, dimensions: Sequence[str]):
    """One Point per answer: accuracy over the last ``window`` answers up to it.
    A dimension an answer was not scored on (a later codebook) does not count."""
    points = []
    for i, answer in enumerate(answers):
        last = answers[max(0, i + 1 - window) : i + 1]
        accuracy = {}
        for key in dimensions:
            scored = [a.matched[key] for a in last if key in a.matched]
            if scored:
                accuracy[key] = sum(scored) / len(scored)
        points.append(
            Point(
                i + 1,
                answer.at,
                answer.correct,
                accuracy,
                sum(a.correct for a in last) / len(last),
                len(last),
            )
        )
    return points


def series(
    project: Project, coder, answers: Sequence[Answer] | None = None
) -> list[Point]:
    """A coder's rolling accuracy per dimension after each check answer, over
    the last ``project.check_window`` answers (``answers``: already read)."""
    coder_id = getattr(coder, "pk", coder)
    if answers is None:
        answers = read_answers(project, coder_id)
    mine = [a for a in answers if a.coder == coder_id]
    return rolling(mine, project.check_window, dimensions_of(mine))


def coder_alerts(
    project: Project, coder: int, username: str, points: Sequence[Point]
) -> list[CheckAlert]:
    """The dimensions below ``check_min_accuracy`` at a coder's last point, once
    the window holds at least MIN_ALERT_ANSWERS answers."""
    if not points or points[-1].window < MIN_ALERT_ANSWERS:
        return []
    last = points[-1]
    return [
        CheckAlert(coder, username, key, round(value, 4), last.window)
        for key, value in last.accuracy.items()
        if value < project.check_min_accuracy
    ]


def alerts(project: Project, *, score: bool = True) -> list[CheckAlert]:
    """Every coder's alerts, by username then dimension. Scores pending answers
    first (``score``); one more query reads the answers and the names."""
    if score:
        score_pending(project)
    rows = list(
        CheckAnswer.objects.filter(project=project)
        .order_by("answered_at", "pk")
        .values_list("coder_id", "coder__username", "answered_at", "matched", "correct")
    )
    names = {coder: name for coder, name, *_ in rows}
    answers = [Answer(c, at, m, ok) for c, _, at, m, ok in rows]
    found = []
    for coder, name in sorted(names.items(), key=lambda pair: pair[1]):
        found += coder_alerts(project, coder, name, series(project, coder, answers))
    return found
