"""The queue's, the submit's and the median's PostgreSQL fast paths give what their
portable twins give, on the same PostgreSQL data (corpus/db.py's rule).

A scenario (a project set up, coders claiming, submitting, skipping, revising and
letting a claim lapse, in a fixed interleaving) is played once with every fast path
and once with each twin forced; what it leaves in the database, told by reading
positions and category keys rather than ids, must be the same.
"""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotator.medians import medians_by_group
from annotator.models import Annotation, Assignment, Label, WorkItem
from annotator.services import (
    claim_next_span,
    skip_span,
    submit_annotation,
)
from corpus.db import portable
from tests.factories import make_project

# Transactional: a claim skips the synchronous commit only in a transaction of its
# own, which a test wrapped in one would never let it have.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CODERS = ("ann", "bob", "cat")
TOPICS = ("arms", "trade", "other")


def play(tag: str) -> dict:
    """Play the scenario on a fresh project; what it left, id-free."""
    coders = [f"{tag}-{name}" for name in CODERS]
    project = make_project(
        documents=4,
        spans_per_document=5,
        coders=coders,
        coders_per_span=2,
        sample_share=0.6,
        order="random",
        seed=7,
        lease_minutes=5,
    )
    users = [User.objects.get(username=name) for name in coders]
    rng = random.Random(11)
    start = timezone.now()
    for step in range(40):
        coder = users[step % len(users)]
        now = start + timedelta(minutes=step)
        assignment = claim_next_span(project=project, coder=coder, now=now)
        if assignment is None:
            continue
        roll = rng.random()
        if roll < 0.1:
            skip_span(coder=coder, assignment=assignment, reason="unclear", now=now)
        elif roll < 0.2:
            continue  # left to lapse: its lease runs out six steps later
        else:
            labels = {"topic": rng.choice(TOPICS), "stance": "neutral"}
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels=labels,
                comment=f"step {step}" if roll > 0.9 else "",
                uncertain=roll > 0.8,
                now=now,
            )
            if roll > 0.85:  # a revision of what was just saved
                submit_annotation(
                    coder=coder,
                    assignment=assignment,
                    labels={**labels, "stance": "hostile"},
                    now=now,
                )
    position = dict(
        WorkItem.objects.filter(project=project).values_list("span_id", "position")
    )
    name = {user.pk: user.username.rsplit("-", 1)[1] for user in users}

    def minutes(moment):
        return None if moment is None else (moment - start) / timedelta(minutes=1)

    return {
        "queue": sorted(
            WorkItem.objects.filter(project=project).values_list(
                "position", "target", "taken", "in_sample"
            )
        ),
        "assignments": sorted(
            (name[coder], position[span], status, minutes(claimed), minutes(done), why)
            for coder, span, status, claimed, done, why in (
                Assignment.objects.filter(project=project).values_list(
                    "coder_id",
                    "span_id",
                    "status",
                    "claimed_at",
                    "finished_at",
                    "skip_reason",
                )  # fmt: skip
            )
        ),
        "annotations": sorted(
            (name[coder], position[span], uncertain, comment, seconds, change)
            for coder, span, uncertain, comment, seconds, change in (
                Annotation.objects.filter(project=project).values_list(
                    "assignment__coder_id",
                    "assignment__span_id",
                    "uncertain",
                    "comment",
                    "seconds",
                    "change",
                )  # fmt: skip
            )
        ),
        "labels": sorted(
            (name[coder], position[span], dimension, category)
            for coder, span, dimension, category in (
                Label.objects.filter(project=project).values_list(
                    "coder_id", "span_id", "dimension__key", "category__key"
                )
            )
        ),
    }


def test_the_queue_and_submits_leave_what_their_twins_leave():
    fast = play("fast")
    assert len(fast["annotations"]) > 15 and any(
        status == "skipped" for _, _, status, *_ in fast["assignments"]
    )
    twins = {
        "analyze-new-queue": portable("analyze-new-queue"),
        "claim-in-one-statement": portable("claim-in-one-statement"),
        "claim-without-sync-commit": portable("claim-without-sync-commit"),
        "submit-in-one-statement": portable("submit-in-one-statement"),
        "all": portable(),
    }
    for name, twin in twins.items():
        with twin:
            assert play(name) == fast, name


def test_the_fast_paths_are_the_ones_that_ran():
    """The claim is one statement, the submit one, and the twins are several."""
    project = make_project(documents=1, spans_per_document=3, coders=["solo"])
    coder = User.objects.get(username="solo")

    def statements(run) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            run()
        return [q["sql"] for q in queries.captured_queries]

    claim = statements(lambda: claim_next_span(project=project, coder=coder))
    assert sum("INSERT INTO annotator_assignment" in q for q in claim) == 1
    assert any(q.startswith("WITH pick AS MATERIALIZED") for q in claim)
    assert any("synchronous_commit" in q for q in claim)
    live = Assignment.objects.get(coder=coder)
    submit = statements(
        lambda: submit_annotation(
            coder=coder, assignment=live, labels={"topic": "arms", "stance": "neutral"}
        )
    )
    assert any(q.startswith("WITH change AS (INSERT") for q in submit)
    with portable():
        claim = statements(lambda: claim_next_span(project=project, coder=coder))
        assert not any(q.startswith("WITH pick") for q in claim)
        assert not any("synchronous_commit" in q for q in claim)
        live = Assignment.objects.get(coder=coder, status="claimed")
        submit = statements(
            lambda: submit_annotation(
                coder=coder,
                assignment=live,
                labels={"topic": "trade", "stance": "neutral"},
            )
        )
        assert not any(q.startswith("WITH change") for q in submit)
        assert any(q.startswith("INSERT INTO annotator_label") for q in submit)


def test_the_median_aggregate_equals_its_twin_bit_for_bit():
    project = make_project(documents=3, spans_per_document=10, coders=CODERS)
    users = list(User.objects.filter(username__in=CODERS))
    rng = random.Random(5)
    for coder in users:
        for _ in range(rng.randint(5, 12)):
            assignment = claim_next_span(project=project, coder=coder)
            if assignment is None:
                break
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels={"topic": "arms", "stance": "neutral"},
            )
    annotations = Annotation.objects.for_project(project)
    # Seconds with awkward binary fractions, an even count for some coders.
    for annotation in annotations:
        annotation.seconds = rng.random() * 10 ** rng.randint(-3, 4)
        annotation.save(update_fields=["seconds"])
    Annotation.objects.filter(pk=annotations.first().pk).update(seconds=None)
    fast = annotations.median_seconds_by_coder()
    with portable("median-aggregate"):
        twin = annotations.median_seconds_by_coder()
    assert fast == twin and len(fast) == len(users)  # ==, not approx
    pairs = list(annotations.values_list("assignment__coder_id", "seconds"))
    coders = np.array([c for c, _ in pairs])
    seconds = np.array([np.nan if s is None else s for _, s in pairs])
    assert medians_by_group(coders, seconds) == fast


def play_checks(tag: str, monkeypatch) -> dict:
    """Claims and submits with hidden checks due at random (seeded), on a fresh
    project; what they left, id-free (pool positions made the study's)."""
    from django.db.models import F

    from annotator.services import queue_checks
    from annotator.training.pool import pool_id
    from tests.factories import make_reference_items

    coders = [f"{tag}-{name}" for name in CODERS]
    project = make_project(
        documents=4, spans_per_document=5, coders=coders, coders_per_span=2, seed=7
    )
    items = make_reference_items(project, 6, "check")
    spans = [item.span_id for item in items]
    WorkItem.objects.filter(project=project, span_id__in=spans).update(
        taken=F("target")
    )
    position = dict(
        WorkItem.objects.filter(project=project).values_list("span_id", "position")
    )
    pool = pool_id(project)
    for span in spans:  # the same pool order in every play
        WorkItem.objects.filter(project_id=pool, span_id=span).update(
            position=position[span]
        )
    project.check_rate = 3
    project.save(update_fields=["check_rate"])
    monkeypatch.setattr(queue_checks, "RANDOM", random.Random(16))
    users = [User.objects.get(username=name) for name in coders]
    name = {user.pk: user.username.rsplit("-", 1)[1] for user in users}
    for step in range(30):
        coder = users[step % len(users)]
        assignment = claim_next_span(project=project, coder=coder)
        if assignment is not None:
            submit_annotation(
                coder=coder, assignment=assignment, labels=LABELS_OF[step % 2]
            )
    return {
        "assignments": sorted(
            (name[coder], "pool" if where == pool else "study", position[span], status)
            for where, coder, span, status in Assignment.objects.filter(
                project_id__in=[project.pk, pool]
            ).values_list("project_id", "coder_id", "span_id", "status")
        ),
        "pool": sorted(
            (position[span], taken)
            for span, taken in WorkItem.objects.filter(project_id=pool).values_list(
                "span_id", "taken"
            )
        ),
        "labels": sorted(
            (name[coder], position[span], category)
            for coder, span, category in Label.objects.filter(
                project_id=pool
            ).values_list("coder_id", "span_id", "category__key")
        ),
    }


LABELS_OF = (
    {"topic": "arms", "stance": "neutral"},
    {"topic": "trade", "stance": "hostile"},
)


def test_hidden_checks_are_served_alike_on_the_fast_path_and_its_twins(monkeypatch):
    """A check is the same _take (TAKE_IN_ONE, or COUNT_TAKEN + INSERT_CLAIM)."""
    fast = play_checks("fast", monkeypatch)
    assert any(where == "pool" for _, where, *_ in fast["assignments"])
    assert any(where == "study" for _, where, *_ in fast["assignments"])
    for twin in ("claim-in-one-statement", "*"):
        with portable(twin):
            assert play_checks(f"twin{len(twin)}", monkeypatch) == fast, twin
