"""The queue says "nothing left" to a coder only when no span still needs them."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db.models import Count, F, Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.models import Assignment, Project, WorkItem
from annotator.services import (
    claim_next_span,
    release_expired_claims,
    skip_span,
    submit_annotation,
)
from tests.factories import make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}
Status = Assignment.Status


def spans_still_needing(project: Project, coder) -> list[int]:
    """Positions of spans with room left that this coder never held (or lost)."""
    theirs = (
        Assignment.objects.filter(project=project, coder=coder)
        .exclude(status=Status.EXPIRED)
        .values("work_item_id")
    )
    return list(
        WorkItem.objects.filter(project=project, taken__lt=F("target"))
        .exclude(pk__in=theirs)
        .order_by("position")
        .values_list("position", flat=True)
    )


def test_coders_working_ahead_of_each_other_code_every_span_they_are_needed_for():
    """The reported case: 300 one-span documents, k = 3, three coders one after
    another. Before the fix the second coder was told "done" after 100 spans."""
    project = make_project(
        documents=300, spans_per_document=1, coders=["c1", "c2", "c3"],
        coders_per_span=3, sample_share=1.0,
    )  # fmt: skip
    coded = {}
    for name in ("c1", "c2", "c3"):
        user = User.objects.get(username=name)
        coded[name] = 0
        while assignment := claim_next_span(project=project, coder=user):
            submit_annotation(coder=user, assignment=assignment, labels=LABELS)
            coded[name] += 1
    assert coded == {"c1": 300, "c2": 300, "c3": 300}
    assert not WorkItem.objects.filter(project=project, taken__lt=3).exists()


_usernames = itertools.count()


@st.composite
def designs(draw):
    k = draw(st.integers(1, 10))
    coders = draw(st.integers(k, min(k + 2, 10)))
    # Keep an example to a few hundred codings: fewer spans when k is large.
    documents = draw(st.integers(1, 8 // k + 1))
    spans_per_document = draw(st.integers(1, 3))
    return {
        "coders_per_span": k,
        "n_coders": coders,
        "documents": documents,
        "spans_per_document": spans_per_document,
        "sample_share": draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])),
        "order": draw(st.sampled_from(list(Project.Order.values))),
        "seed": draw(st.integers(0, 1000)),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    design=designs(),
    work=st.sampled_from(["sequential", "round-robin", "random"]),
    skip_rate=st.sampled_from([0.0, 0.1, 0.3]),
    lapse_rate=st.sampled_from([0.0, 0.1]),
    rng=st.randoms(use_true_random=False),
    window=st.integers(1, 4),
)
def test_nothing_left_only_when_no_span_needs_the_coder(
    design, work, skip_rate, lapse_rate, rng: random.Random, window: int
):
    # The queue looks at a window of started spans first (100 in production); a
    # window of a few spans puts small projects in the situations big ones meet.
    with mock.patch("annotator.services.queue_sql.STARTED_WINDOW", window):
        _work_until_done(design, work, skip_rate, lapse_rate, rng)


def _work_until_done(design, work, skip_rate, lapse_rate, rng: random.Random):
    n_coders = design.pop("n_coders")
    names = [f"q{next(_usernames)}" for _ in range(n_coders)]
    project = make_project(coders=names, lease_minutes=5, **design)
    coders = list(User.objects.filter(username__in=names).order_by("username"))
    clock = [timezone.now()]

    def step(coder) -> bool:
        """One request of this coder: True if it got a span."""
        clock[0] += timedelta(seconds=1)
        assignment = claim_next_span(project=project, coder=coder, now=clock[0])
        if assignment is None:
            # The property: "nothing left" is true at this instant.
            assert spans_still_needing(project, coder) == [], (design, work)
            return False
        roll = rng.random()
        if roll < skip_rate:
            skip_span(
                coder=coder, assignment=assignment, reason="unclear", now=clock[0]
            )
        elif roll < skip_rate + lapse_rate:
            # The coder walks away: the lease runs out before anyone asks again.
            clock[0] += timedelta(minutes=project.lease_minutes + 1)
        else:
            submit_annotation(
                coder=coder, assignment=assignment, labels=LABELS, now=clock[0]
            )
        return True

    budget = (
        4 * sum(project.work_items.values_list("target", flat=True)) + 50 * n_coders
    )
    if work == "sequential":
        for coder in coders:
            while step(coder):
                budget -= 1
                assert budget > 0
    else:
        quiet_rounds = 0
        while quiet_rounds < 2:
            order = coders if work == "round-robin" else rng.sample(coders, n_coders)
            busy = [step(coder) for coder in order]
            quiet_rounds = 0 if any(busy) else quiet_rounds + 1
            budget -= 1
            assert budget > 0
    # Whatever the order of work, every coder has now been told "nothing left" when
    # it was true, and lapsed claims (nobody came back for them) are released.
    clock[0] += timedelta(minutes=project.lease_minutes + 1)
    release_expired_claims(project=project, now=clock[0])
    for coder in coders:
        while step(coder):
            pass
    items = WorkItem.objects.filter(project=project).annotate(
        held=Count(
            "assignments", filter=Q(assignments__status__in=["claimed", "completed"])
        ),
        completed=Count("assignments", filter=Q(assignments__status="completed")),
    )
    for item in items:
        assert item.taken == item.held, item
        assert item.completed <= item.target, item
        # Under-coded only where every coder has already skipped or coded it.
        if item.completed < item.target:
            assert (
                item.assignments.exclude(status=Status.EXPIRED)
                .values("coder")
                .distinct()
                .count()
                == n_coders
            ), (item, design, work)


def test_a_coder_told_nothing_left_is_told_again_without_a_search(
    django_assert_max_num_queries,
):
    """At 1M spans the search behind "nothing left" walks every started span (all
    the coder's own): it must not run again on every request of a finished coder."""
    project = make_project(
        documents=3, spans_per_document=2, coders=["a", "b", "c"], coders_per_span=3
    )
    ahead = User.objects.get(username="a")
    while assignment := claim_next_span(project=project, coder=ahead):
        submit_annotation(coder=ahead, assignment=assignment, labels=LABELS)
    # The coder's lock (with the versions), and their live claim and place.
    with django_assert_max_num_queries(4) as captured:
        assert claim_next_span(project=project, coder=ahead) is None
    searches = [
        q["sql"] for q in captured.captured_queries if "ORDER BY w.position" in q["sql"]
    ]
    assert searches == []


def test_a_place_given_back_reaches_a_coder_told_nothing_left():
    """A place given back (a skip, a lapsed lease: both through release_claims, as a
    removed coder's claims) makes the coders told "nothing left" look again."""
    project = make_project(
        documents=1, spans_per_document=3, coders=["a", "b", "c", "d"],
        coders_per_span=2, lease_minutes=5,
    )  # fmt: skip
    a, b, c, d = (User.objects.get(username=n) for n in "abcd")
    now = timezone.now()

    def code_all(user):
        while assignment := claim_next_span(project=project, coder=user, now=now):
            submit_annotation(coder=user, assignment=assignment, labels=LABELS, now=now)

    code_all(a)
    held_by_b = claim_next_span(project=project, coder=b, now=now)
    held_by_c = [claim_next_span(project=project, coder=c, now=now)]
    submit_annotation(coder=c, assignment=held_by_c[0], labels=LABELS, now=now)
    held_by_c.append(claim_next_span(project=project, coder=c, now=now))
    # d finds every span full (a coded all, b and c hold or coded the rest).
    assert claim_next_span(project=project, coder=d, now=now) is None
    skip_span(coder=b, assignment=held_by_b, reason="unclear", now=now)
    skipped_one = claim_next_span(project=project, coder=d, now=now)
    assert skipped_one.span_id == held_by_b.span_id
    submit_annotation(coder=d, assignment=skipped_one, labels=LABELS, now=now)
    assert claim_next_span(project=project, coder=d, now=now) is None
    # c's claim lapses: d gets it at d's next request after the lease.
    later = now + timedelta(minutes=6)
    lapsed = claim_next_span(project=project, coder=d, now=later)
    assert lapsed.span_id == held_by_c[1].span_id
    submit_annotation(coder=d, assignment=lapsed, labels=LABELS, now=later)
    assert claim_next_span(project=project, coder=d, now=later) is None
