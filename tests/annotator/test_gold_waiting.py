"""The adjudication queue's table (GoldWaiting) agrees with its live rule.

The table is written by refreshes and adjudications; the rule
(``waiting_live``) is computed from labels, gold and assignments. After each
kind of change they must list the same spans, counts and order.
"""

from __future__ import annotations

import pytest

from annotator.gold import adjudicate, adjudication_queue, refresh_gold, settle_span
from annotator.gold.queue import waiting_live
from annotator.models import GoldWaiting, Membership
from tests.annotator.test_gold import coders, project, rate, spans  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def agreed(of) -> list[tuple[int, int, int]]:
    """The queue as the table lists it, checked against the live rule."""
    fields = ("span_id", "n_ratings", "n_codes")
    table = list(adjudication_queue(of).values_list(*fields))
    assert table == list(waiting_live(of).values_list(*fields))
    return table


@pytest.fixture
def reviewer(project):  # noqa: F811
    user = UserFactory(username="rev")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


def test_refreshes_adjudications_and_new_annotations_keep_table_and_rule_equal(
    project, coders, reviewer  # noqa: F811
):
    s = spans(project)
    a, b, c = coders
    rate(project, a, s[0], topic="arms", tags=["quote"])
    rate(project, b, s[0], topic="trade", tags=["quote"])  # disputed topic
    rate(project, a, s[1], topic="arms", stance="hostile")
    rate(project, b, s[1], topic="arms", stance="neutral")  # disputed stance
    rate(project, a, s[2], topic="arms")
    rate(project, b, s[2], topic="arms")  # unanimous
    rate(project, a, s[3], topic="arms")  # one rating: not yet disputed
    # The table is the rule as of the last refresh: none yet, nothing listed.
    assert not adjudication_queue(project).exists()
    refresh_gold(project)
    first = agreed(project)
    assert {span for span, _, _ in first} == {s[0], s[1]}

    # A reviewer decides one of two dimensions, then the rest.
    adjudicate(project, s[1], "stance", "neutral", reviewer=reviewer)
    assert [span for span, _, _ in agreed(project)] == [s[0]]
    settle_span(
        project,
        s[0],
        {"topic": ["arms"], "stance": ["neutral"], "tags": ["quote"]},
        reviewer=reviewer,
    )
    assert agreed(project) == []

    # New annotations: a third coder splits the unanimous span, a second coder
    # disagrees with the lone one, and a third rating on the settled span
    # leaves its tags (automatic, unanimous until now) undecided.
    rate(project, c, s[2], topic="trade")
    rate(project, b, s[3], topic="trade")
    rate(project, c, s[0], topic="other")
    refresh_gold(project)  # incremental: only these spans recomputed
    after = agreed(project)
    assert {span for span, _, _ in after} == {s[0], s[2], s[3]}
    assert after[-1] == (s[3], 2, 3)  # fewest ratings last

    # A settings change recomputes everything (a full pass rebuilds the table).
    project.gold_methods = ["unanimous", "single", "majority"]
    project.save()
    refresh_gold(project)
    assert [span for span, _, _ in agreed(project)] == [s[3]]
    assert GoldWaiting.objects.filter(project=project).count() == 1


def test_a_full_refresh_rebuilds_a_damaged_table(project, coders):  # noqa: F811
    s = spans(project)
    rate(project, coders[0], s[0], topic="arms")
    rate(project, coders[1], s[0], topic="trade")
    refresh_gold(project)
    GoldWaiting.objects.filter(project=project).delete()
    refresh_gold(project, force=True)
    assert [span for span, _, _ in agreed(project)] == [s[0]]
