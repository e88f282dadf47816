"""Hidden checks in the claim queue: when one is served, which, and what it writes.

A check is a claim in the study's reference pool (annotator/training/pool.py),
served by claim_next_span at about 1 in check_rate claims (services.queue_checks).
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from annotator.models import Annotation, Assignment, CheckAnswer, Label, WorkItem
from annotator.services import claim_next_span, queue_checks, submit_annotation
from annotator.training.pool import pool_id
from tests.factories import DueRandom, make_checks_project, make_codebook

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}


@pytest.fixture
def always(monkeypatch):
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True, seed=3))


def coder(name: str) -> User:
    return User.objects.get(username=name)


def claim(project, name: str, **kwargs):
    return claim_next_span(project=project, coder=coder(name), **kwargs)


def test_a_due_check_is_a_claim_in_the_pool_on_a_check_item(always):
    project, items = make_checks_project()
    check = claim(project, "c1")
    assert check.project_id == pool_id(project)
    assert check.span_id in {item.span_id for item in items}
    assert WorkItem.objects.get(pk=check.work_item_id).project_id == pool_id(project)
    # A reload serves the same check again (the live claim is looked for in both).
    assert claim(project, "c1").pk == check.pk


def test_submitting_a_check_writes_into_the_pool_not_the_study(always):
    project, _ = make_checks_project()
    check = claim(project, "c1")
    submit_annotation(coder=coder("c1"), assignment=check.pk, labels=LABELS)
    pool = pool_id(project)
    assert Annotation.objects.get(assignment=check).project_id == pool
    assert set(Label.objects.filter(annotation__assignment=check).values_list(
        "project_id", flat=True)) == {pool}  # fmt: skip
    assert not Annotation.objects.filter(project=project).exists()


def test_each_check_item_is_served_to_a_coder_once_then_real_work(always):
    project, items = make_checks_project(checks=3)
    served = []
    for _ in range(5):
        assignment = claim(project, "c1")
        submit_annotation(coder=coder("c1"), assignment=assignment, labels=LABELS)
        served.append(assignment)
    pool = pool_id(project)
    checks = [a.span_id for a in served if a.project_id == pool]
    assert sorted(checks) == sorted(item.span_id for item in items)
    assert [a.project_id for a in served[3:]] == [project.pk, project.pk]
    # Another coder gets the same items (a pool item is never full).
    assert claim(project, "c2").project_id == pool


def test_items_not_eligible_are_never_served(always):
    project, items = make_checks_project(checks=6, documents=4)
    c1 = coder("c1")
    retired, practice_like, answered, met, still_open, fine = items
    retired.retired_at = timezone.now()
    retired.save()
    practice_like.use = "test"
    practice_like.save()
    CheckAnswer.objects.create(
        project=project, coder=c1, item=answered, labels={}, matched={},
        correct=True, answered_at=timezone.now(),
    )  # fmt: skip
    WorkItem.objects.filter(project=project, span_id=still_open.span_id).update(
        taken=0
    )
    met_item = WorkItem.objects.get(project=project, span_id=met.span_id)
    Assignment.objects.create(
        project=project, work_item=met_item, span_id=met.span_id, coder=c1,
        status="completed", claimed_at=timezone.now(), finished_at=timezone.now(),
        expires_at=timezone.now(),
    )  # fmt: skip
    eligible = set()
    pool = pool_id(project)
    for _ in range(12):
        assignment = claim(project, "c1")
        if assignment is None:
            break
        if assignment.project_id == pool:
            eligible.add(assignment.span_id)
        submit_annotation(coder=c1, assignment=assignment.pk, labels=LABELS)
    assert retired.span_id not in eligible
    assert practice_like.span_id not in eligible
    assert answered.span_id not in eligible
    assert met.span_id not in eligible
    assert still_open.span_id not in eligible
    assert eligible == {fine.span_id}


def test_a_check_on_another_codebook_version_is_not_served(always):
    project, items = make_checks_project(checks=1)
    other = make_codebook(name="Another codebook", family="another-codebook")
    assert other.pk != project.codebook_id
    type(items[0]).objects.filter(pk=items[0].pk).update(codebook=other)
    assert claim(project, "c1").project_id == project.pk


def test_no_check_without_a_rate_or_when_none_is_due(monkeypatch):
    project, _ = make_checks_project(rate=0)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True))
    assert claim(project, "c1").project_id == project.pk
    project2, _ = make_checks_project(coders=("d1",), rate=2)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=False))
    assert claim(project2, "d1").project_id == project2.pk


def test_with_no_eligible_item_a_due_check_falls_through_to_real_work(always):
    project, items = make_checks_project(checks=1)
    WorkItem.objects.filter(project=project, span_id=items[0].span_id).update(taken=0)
    assignment = claim(project, "c1")
    assert assignment.project_id == project.pk


def test_a_lapsed_check_is_released_and_the_place_stays_study_only(always):
    project, _ = make_checks_project(checks=2, lease_minutes=5)
    start = timezone.now()
    check = claim(project, "c1", now=start)
    later = start + timedelta(minutes=10)
    queue_checks.RANDOM = DueRandom(due=False)
    after = claim(project, "c1", now=later)
    assert after.project_id == project.pk
    assert Assignment.objects.get(pk=check.pk).status == "expired"
    assert WorkItem.objects.get(pk=check.work_item_id).taken == 0
    # The coder's place is their latest study submit, never a check.
    submit_annotation(coder=coder("c1"), assignment=after.pk, labels=LABELS, now=later)
    queue_checks.RANDOM = DueRandom(due=True)
    check = claim(project, "c1", now=later)
    submit_annotation(coder=coder("c1"), assignment=check.pk, labels=LABELS, now=later)
    queue_checks.RANDOM = DueRandom(due=False)
    following = claim(project, "c1", now=later)
    first = WorkItem.objects.get(project=project, span_id=after.span_id)
    nxt = WorkItem.objects.get(project=project, span_id=following.span_id)
    assert nxt.document_id == first.document_id and nxt.position > first.position


def test_no_check_after_nothing_left(always):
    project, _ = make_checks_project(
        checks=2, documents=1, spans_per_document=3, coders=("c1",)
    )
    c1 = coder("c1")
    queue_checks.RANDOM = DueRandom(due=False)
    while (assignment := claim(project, "c1")) is not None:
        submit_annotation(coder=c1, assignment=assignment.pk, labels=LABELS)
    queue_checks.RANDOM = DueRandom(due=True)
    assert claim(project, "c1") is None  # told "nothing left": still so


def test_about_one_claim_in_rate_is_a_check(monkeypatch):
    """Seeded: 1,000 claim + submit cycles at check_rate 20 give 50 ± 20 checks
    (the binomial's sd is about 6.9: ± 20 is almost 3 sd)."""
    coders = tuple(f"r{n}" for n in range(5))
    project, _ = make_checks_project(
        checks=40, documents=20, spans_per_document=50, coders=coders, rate=20
    )
    monkeypatch.setattr(queue_checks, "RANDOM", random.Random(20261206))
    users = [coder(name) for name in coders]
    pool = pool_id(project)
    checks = 0
    for cycle in range(1000):
        user = users[cycle % len(users)]
        assignment = claim_next_span(project=project, coder=user)
        assert assignment is not None
        checks += assignment.project_id == pool
        submit_annotation(coder=user, assignment=assignment.pk, labels=LABELS)
    assert 30 <= checks <= 70, checks


def test_a_coder_removed_while_holding_a_check_gives_its_place_back(always):
    from annotator.services import remove_member

    project, _ = make_checks_project(checks=2)
    check = claim(project, "c1")
    remove_member(project=project, user=coder("c1"))
    assert Assignment.objects.get(pk=check.pk).status == "expired"
    assert WorkItem.objects.get(pk=check.work_item_id).taken == 0


def test_a_span_met_as_a_check_never_comes_back_as_real_work(monkeypatch):
    """A check is served on a span full in the study, but a place can open there
    again (here: the study's work items are emptied, as lapsed claims, skips or
    a design asking for more coders do). Served to the same coder as real work,
    the span would tell them the first one was a check; so it never is."""
    from django.db.models import F

    project, items = make_checks_project(checks=2, documents=1, spans_per_document=3)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True, seed=3))
    met = [claim(project, "c1") for _ in range(1)][0]
    submit_annotation(coder=coder("c1"), assignment=met, labels=LABELS)
    assert met.project_id == pool_id(project)
    # Every study place opens again; no more checks are due.
    WorkItem.objects.filter(project=project).update(taken=F("taken") * 0)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=False))
    served = []
    while (assignment := claim(project, "c1")) is not None:
        submit_annotation(coder=coder("c1"), assignment=assignment, labels=LABELS)
        served.append(assignment.span_id)
    assert met.span_id not in served
    assert set(served) == set(
        WorkItem.objects.filter(project=project)
        .exclude(span_id=met.span_id)
        .values_list("span_id", flat=True)
    )


def test_closing_the_project_releases_a_live_check_claim(always):
    from annotator.services.lifecycle import close_project

    project, _ = make_checks_project()
    check = claim(project, "c1")
    assert check.project_id == pool_id(project)
    assert close_project(project) == 1
    assert Assignment.objects.get(pk=check.pk).status == Assignment.Status.EXPIRED
