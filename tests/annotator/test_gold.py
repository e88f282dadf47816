"""Gold labels: the project's rules wired to the label table, adjudication, queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.gold import refresh_gold
from annotator.models import (
    Assignment,
    GoldLabel,
    GoldRun,
    Membership,
    WorkItem,
)
from annotator.services import submit_annotation
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db


def rate(project, user, span_id, **labels):
    """``user`` codes the span with ``labels`` (a hand-made rating)."""
    Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": Membership.Role.CODER}
    )
    item = WorkItem.objects.get(project=project, span_id=span_id)
    now = timezone.now()
    assignment = Assignment.objects.create(
        project=project,
        work_item=item,
        span_id=span_id,
        coder=user,
        claimed_at=now,
        expires_at=now + timedelta(hours=1),
    )
    WorkItem.objects.filter(pk=item.pk).update(taken=item.taken + 1)
    labels.setdefault("stance", "neutral")
    return submit_annotation(coder=user, assignment=assignment, labels=labels)


@pytest.fixture
def project(db):
    return make_project(documents=1, spans_per_document=6, coders_per_span=2)


@pytest.fixture
def coders(db):
    return [UserFactory(username=f"c{i}") for i in range(1, 4)]


def spans(project):
    return list(
        WorkItem.objects.filter(project=project)
        .order_by("position")
        .values_list("span_id", flat=True)
    )


def gold(project, span_id, key="topic"):
    return GoldLabel.objects.filter(
        project=project, span_id=span_id, dimension__key=key
    ).first()


def test_unanimous_and_undecided(project, coders):
    s = spans(project)
    a, b, _ = coders
    rate(project, a, s[0], topic="arms")
    rate(project, b, s[0], topic="arms")
    rate(project, a, s[1], topic="arms")
    rate(project, b, s[1], topic="trade")
    runs = refresh_gold(project)
    assert len(runs) == 3
    g = gold(project, s[0])
    assert g.method == "unanimous" and g.category.key == "arms"
    assert g.coder_codes == {str(a.pk): ["arms"], str(b.pk): ["arms"]}
    assert g.agreement == 1.0 and g.n_ratings == 2
    assert gold(project, s[1]) is None
    assert refresh_gold(project) == []
    assert GoldRun.objects.count() == 3


def test_multi_choice_sets_and_changes_are_picked_up(project, coders):
    s = spans(project)
    a, b, _ = coders
    rate(project, a, s[0], topic="arms", tags=["quote", "number"])
    rate(project, b, s[0], topic="arms", tags=["number", "quote"])
    refresh_gold(project)
    g = gold(project, s[0], "tags")
    assert g.method == "unanimous"
    assert sorted(g.categories.values_list("category__key", flat=True)) == [
        "number",
        "quote",
    ]
    # b revises: tags now differ, topic still agrees.
    assignment = Assignment.objects.get(project=project, span_id=s[0], coder=b)
    submit_annotation(
        coder=b, assignment=assignment, labels={"topic": "arms", "stance": "neutral"}
    )
    assert len(refresh_gold(project)) == 3
    assert gold(project, s[0], "tags") is None
    assert gold(project, s[0]).method == "unanimous"
