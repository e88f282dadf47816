"""Skips and their undo (annotator/services/skips.py): the span comes back to the
coder as a live claim while it still has a place for them, and the queue's counters
stay what claims and submits rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from annotator.models import Assignment, WorkItem
from annotator.services import (
    claim_next_span,
    remove_member,
    skip_span,
    submit_annotation,
    unskip_span,
)
from tests.factories import make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}
LIVE_OR_DONE = Q(assignments__status__in=["claimed", "completed"])


def coder(name):
    return User.objects.get(username=name)


def assert_counters_consistent(project):
    """Every work item's `taken` is its live claims plus its finished codings."""
    items = WorkItem.objects.filter(project=project).annotate(
        held=Count("assignments", filter=LIVE_OR_DONE)
    )
    assert [(i.pk, i.taken) for i in items] == [(i.pk, i.held) for i in items]


@pytest.fixture
def project():
    return make_project(
        documents=1, spans_per_document=3, coders=["c1", "c2", "c3"], coders_per_span=2
    )


def skipped_by(project, name, reason="Not in English"):
    held = claim_next_span(project=project, coder=coder(name))
    return skip_span(coder=coder(name), assignment=held, reason=reason)


def test_undo_makes_the_span_the_coders_live_claim_again(project):
    skipped = skipped_by(project, "c1")
    other = claim_next_span(project=project, coder=coder("c1"))
    assert other.span_id != skipped.span_id
    assert_counters_consistent(project)

    now = timezone.now()
    back = unskip_span(coder=coder("c1"), assignment=skipped.pk, now=now)
    assert back.pk == skipped.pk and back.status == Assignment.Status.CLAIMED
    assert back.skip_reason == "" and back.finished_at is None
    assert back.expires_at == now + timedelta(minutes=project.lease_minutes)
    assert_counters_consistent(project)

    # The next claim serves it, with its clock started then.
    served = claim_next_span(project=project, coder=coder("c1"), shown=True)
    assert served.pk == skipped.pk and served.shown_at is not None
    submit_annotation(coder=coder("c1"), assignment=served, labels=LABELS)
    # Then the span the coder held before the undo, still theirs.
    assert claim_next_span(project=project, coder=coder("c1")).pk == other.pk
    assert_counters_consistent(project)


def test_undo_is_refused_once_other_coders_filled_the_span(project):
    skipped = skipped_by(project, "c1")
    for name in ("c2", "c3"):  # two coders per span: both places taken
        assert claim_next_span(project=project, coder=coder(name)).span_id == (
            skipped.span_id
        )
    with pytest.raises(ValidationError, match="Other coders have taken this span"):
        unskip_span(coder=coder("c1"), assignment=skipped)
    assert Assignment.objects.get(pk=skipped.pk).status == Assignment.Status.SKIPPED
    assert_counters_consistent(project)


def test_a_lapsed_claim_frees_the_place_for_an_undo(project):
    skipped = skipped_by(project, "c1")
    now = timezone.now()
    for name in ("c2", "c3"):
        claim_next_span(project=project, coder=coder(name), now=now)
    later = now + timedelta(minutes=project.lease_minutes + 1)
    back = unskip_span(coder=coder("c1"), assignment=skipped, now=later)
    assert back.status == Assignment.Status.CLAIMED
    assert_counters_consistent(project)


def test_only_the_coders_own_skipped_span_can_be_taken_back(project):
    skipped = skipped_by(project, "c1")
    with pytest.raises(ValidationError, match="not assigned to you"):
        unskip_span(coder=coder("c2"), assignment=skipped)
    live = claim_next_span(project=project, coder=coder("c2"))
    with pytest.raises(ValidationError, match="Only a skipped span"):
        unskip_span(coder=coder("c2"), assignment=live)
    submit_annotation(coder=coder("c2"), assignment=live, labels=LABELS)
    with pytest.raises(ValidationError, match="this one is completed"):
        unskip_span(coder=coder("c2"), assignment=live)
    with pytest.raises(ValidationError, match="not assigned to you"):
        unskip_span(coder=coder("c1"), assignment=10**9)
    assert Assignment.objects.get(pk=skipped.pk).status == Assignment.Status.SKIPPED
    assert_counters_consistent(project)


def test_a_removed_coder_cannot_take_a_skip_back(project):
    skipped = skipped_by(project, "c1")
    remove_member(project=project, user=coder("c1"))
    with pytest.raises(ValidationError, match="not a coder"):
        unskip_span(coder=coder("c1"), assignment=skipped)
    assert Assignment.objects.get(pk=skipped.pk).status == Assignment.Status.SKIPPED
