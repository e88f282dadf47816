"""Active learning's claim order: the single-coded remainder most uncertain first,
the reliability sample as before, the old order exactly when off; the fast path
and its portable twin agree, and concurrent claims stay exact."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import User

from annotator.models import Project, WorkItem
from annotator.services import claim_next_span, submit_annotation
from corpus.db import portable
from tests.factories import make_project

LABELS = {"topic": "arms", "stance": "neutral"}


def project_with_uncertainty(*, active_learning: bool, coders=("ann", "bob"), seed=3):
    """A project with a sample (k = 2) and a remainder whose spans carry a seeded
    uncertainty, a few none (as if never predicted) and a few ties."""
    project = make_project(
        documents=4,
        spans_per_document=6,
        coders=list(coders),
        coders_per_span=2,
        sample_share=0.35,
        seed=seed,
    )
    rng = random.Random(seed)
    for item in WorkItem.objects.filter(project=project).order_by("position"):
        roll = rng.random()
        item.uncertainty = (
            None if roll < 0.2 else round(rng.choice([0.1, 0.4]) + roll / 4, 1)
        )
        item.save(update_fields=["uncertainty"])
    Project.objects.filter(pk=project.pk).update(active_learning=active_learning)
    return project


def play(project, names, limit=200) -> list[tuple[str, int]]:
    """Coders claim and submit in turn until none is given a span: (coder, position)."""
    coders = [User.objects.get(username=name) for name in names]
    position = dict(
        WorkItem.objects.filter(project=project).values_list("span_id", "position")
    )
    served, idle = [], set()
    for step in range(limit):
        coder = coders[step % len(coders)]
        if coder.pk in idle:
            if len(idle) == len(coders):
                break
            continue
        assignment = claim_next_span(project=project, coder=coder)
        if assignment is None:
            idle.add(coder.pk)
            continue
        served.append((coder.username, position[assignment.span_id]))
        submit_annotation(coder=coder, assignment=assignment, labels=LABELS)
    return served


def items(project) -> dict[int, WorkItem]:
    return {w.position: w for w in WorkItem.objects.filter(project=project)}


@pytest.mark.django_db
def test_off_serves_exactly_the_old_order_whatever_the_uncertainty():
    plain = make_project(
        documents=4, spans_per_document=6, coders=["ann", "bob"], coders_per_span=2,
        sample_share=0.35, seed=3,
    )  # fmt: skip
    uncertain = project_with_uncertainty(active_learning=False)
    assert play(uncertain, ["ann", "bob"]) == play(plain, ["ann", "bob"])


@pytest.mark.django_db
def test_on_serves_the_sample_as_before_then_the_most_uncertain_remainder():
    project = project_with_uncertainty(active_learning=True, coders=["ann"])
    before = project_with_uncertainty(active_learning=False, coders=["ann"])
    by_position = items(project)
    served = [position for _, position in play(project, ["ann"])]
    assert sorted(served) == sorted(by_position)  # every span, once
    sample = [p for p in served if by_position[p].in_sample]
    rest = served[len(sample) :]
    assert served[: len(sample)] == sample  # the sample's untouched spans first
    # ... in the order they had without active learning (their reading order),
    old = [p for _, p in play(before, ["ann"]) if items(before)[p].in_sample]
    assert sample == old == sorted(sample)
    # then the remainder most uncertain first (ties in reading order), the spans
    # never predicted last, in reading order.
    known = [p for p in rest if by_position[p].uncertainty is not None]
    assert rest == known + sorted(set(rest) - set(known))
    assert known == sorted(known, key=lambda p: (-by_position[p].uncertainty, p))
    assert len({by_position[p].uncertainty for p in known}) < len(known)  # ties met


@pytest.mark.django_db
def test_on_a_started_sample_span_still_comes_before_any_uncertain_one():
    """A span another coder started (the sample's second coding) comes first, as
    without active learning: agreement data early."""
    project = project_with_uncertainty(active_learning=True)
    served = play(project, ["ann", "bob"])
    by_position = items(project)
    started_by_ann = {
        p for name, p in served if name == "ann" and by_position[p].in_sample
    }
    bob_first = next(p for name, p in served if name == "bob")
    assert bob_first in started_by_ann
    assert all(w.taken == w.target for w in by_position.values())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_one_statement_claim_and_its_twin_serve_alike_with_active_learning():
    fast = play(project_with_uncertainty(active_learning=True), ["ann", "bob"])
    with portable("claim-in-one-statement"):
        twin = play(
            project_with_uncertainty(active_learning=True, coders=("cat", "dan")),
            ["cat", "dan"],
        )
    rename = {"cat": "ann", "dan": "bob"}
    assert [(rename[name], p) for name, p in twin] == fast
    assert len(fast) > 24


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_with_active_learning_code_every_span_exactly():
    from tests.annotator.test_concurrency import (
        CODERS,
        assert_coded_exactly_as_designed,
        code_in_threads,
        make_busy_project,
    )

    project = make_busy_project(coders_per_span=3)
    rng = random.Random(1)
    for item in WorkItem.objects.filter(project=project, in_sample=False):
        item.uncertainty = rng.random()
        item.save(update_fields=["uncertainty"])
    Project.objects.filter(pk=project.pk).update(active_learning=True)
    coded = code_in_threads(project.pk, CODERS)
    assert_coded_exactly_as_designed(project, coded)
