"""The demo's coder training: reference items from simulated gold, checks, a drifter.

The simulated project (annotator.demo) gets practice, test and hidden-check items
marked from its decided gold, hidden checks at about 1 claim in 20, and a fourth
simulated coder, sim-dana, who meets only hidden checks, served and answered through
the real claim and submit path: her first answers follow the reference, the later
ones do not, so the coders page, the project page and the API show an alert for her.
Seeded and idempotent: a project that has reference items is left as it is.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotator.models import Category, GoldLabel, Project, ReferenceItem
from annotator.services import (
    claim_next_span,
    queue_checks,
    set_membership,
    submit_annotation,
)
from annotator.services.training_settings import change_training_settings
from annotator.training import checks, reference
from annotator.training.pool import pool_id

DRIFTING_CODER = "sim-dana"
# How many decided spans become reference items of each use.
SETS = (("practice", 6), ("test", 8), ("check", 14))
# sim-dana's first answers follow the reference; every later one misses it.
RIGHT_AT_FIRST = 5
DEMO_CHECK_RATE = 20
SEED = 2016


class _AlwaysDue(random.Random):
    """Every claim draws a check: so sim-dana's claims are hidden checks only (the
    simulated study is coded to the end), while the project's rate stays 1 in 20."""

    def random(self) -> float:
        return 0.0


def decided_spans(project: Project) -> list[int]:
    """Spans whose gold decided a category on every single-choice dimension."""
    dimensions = project.codebook.dimensions.count()
    return list(
        GoldLabel.objects.filter(project=project)
        .values("span_id")
        .annotate(decided=Count("pk", filter=Q(category__isnull=False)))
        .filter(decided=dimensions)
        .order_by("span_id")
        .values_list("span_id", flat=True)
    )


def _explanation(codes: dict, labels: dict[tuple[str, str], str]) -> str:
    said = ", ".join(
        f"{dimension} “{labels.get((dimension, key), key)}”"
        for dimension, keys in codes.items()
        for key in keys
    )
    return (
        f"The simulated coders' gold for this span: {said}. (Demo data: a rough "
        "reference code, not an expert's judgement.)"
    )


def mark_reference_items(project: Project, by: User) -> list[ReferenceItem]:
    """Practice, test and check items from decided gold, in a seeded order."""
    spans = decided_spans(project)
    random.Random(SEED).shuffle(spans)
    labels = {
        (dimension, key): label
        for dimension, key, label in Category.objects.filter(
            dimension__codebook_id=project.codebook_id
        ).values_list("dimension__key", "key", "label")
    }
    items = []
    for use, n in SETS:
        for span_id in spans[:n]:
            item = reference.mark_from_gold(project, span_id=span_id, use=use, by=by)
            item.explanation = _explanation(item.codes, labels)
            item.save(update_fields=["explanation"])
            items.append(item)
        spans = spans[n:]
    return items


def _missed(codes: dict, choices: dict[str, list[str]]) -> dict[str, str]:
    """A coding that misses the reference on every dimension."""
    return {
        dimension: next(key for key in choices[dimension] if key not in keys)
        for dimension, keys in codes.items()
    }


def drift(project: Project, coder: User, start) -> int:
    """The coder's hidden checks, right at first and then wrong; how many."""
    choices: dict[str, list[str]] = {}
    for dimension, key in Category.objects.filter(
        dimension__codebook_id=project.codebook_id
    ).values_list("dimension__key", "key"):
        choices.setdefault(dimension, []).append(key)
    pool = pool_id(project)
    rng = random.Random(SEED)
    saved, queue_checks.RANDOM = queue_checks.RANDOM, _AlwaysDue(SEED)
    answered = 0
    try:
        clock = start
        while assignment := claim_next_span(project=project, coder=coder, now=clock):
            if assignment.project_id != pool:  # never: the study is coded to the end
                break
            codes = ReferenceItem.objects.get(
                project=project, span_id=assignment.span_id
            ).codes
            right = answered < RIGHT_AT_FIRST
            labels = (
                {dimension: keys[0] for dimension, keys in codes.items()}
                if right
                else _missed(codes, choices)
            )
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels=labels,
                now=clock + timedelta(seconds=rng.uniform(8, 40)),
            )
            answered += 1
            clock += timedelta(hours=rng.randint(18, 36))
    finally:
        queue_checks.RANDOM = saved
    return answered


@transaction.atomic
def load_demo_training(project: Project) -> None:
    """Reference items, the check rate and sim-dana's drifting checks (once)."""
    if ReferenceItem.objects.filter(project=project).exists():
        return
    manager = User.objects.get(username="manager")
    mark_reference_items(project, manager)
    change_training_settings(project, check_rate=DEMO_CHECK_RATE, by=manager)
    dana, _ = User.objects.get_or_create(username=DRIFTING_CODER)
    dana.set_unusable_password()
    dana.save()
    set_membership(project=project, user=dana, role="coder")
    drift(project, dana, timezone.now() - timedelta(days=20))
    checks.score_pending(project)
