"""Hidden checks scored from the reference pool: idempotent, revisions re-scored,
rolling accuracy per dimension, alerts for a drifting coder only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotator.models import CheckAnswer, ReferenceItem
from annotator.services import submit_annotation
from annotator.training import checks
from tests.factories import answer_checks, make_project, member

pytestmark = pytest.mark.django_db

DRIFT = [True] * 10 + [False, False, True] + [False] * 3 + [True] + [False] * 3


@pytest.fixture
def project():
    return make_project(documents=8, spans_per_document=4, coders=())


def test_nothing_to_score_without_a_pool(project, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert checks.score_pending(project) == 0
    assert checks.alerts(project) == []


def test_scoring_is_idempotent(project, django_assert_num_queries):
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [True, False, True])
    assert checks.score_pending(project) == 3
    rows = list(CheckAnswer.objects.filter(project=project).order_by("answered_at"))
    assert [r.correct for r in rows] == [True, False, True]
    assert rows[1].matched == {"topic": False, "stance": True, "tags": True}
    assert rows[0].labels == {"topic": ["arms"], "stance": ["neutral"]}
    assert all(r.change for r in rows)
    with django_assert_num_queries(1):
        assert checks.score_pending(project) == 0
    # A new answer is scored alone.
    answer_checks(project, ann, [True])
    assert checks.score_pending(project) == 1
    assert CheckAnswer.objects.filter(project=project).count() == 4


def test_a_revised_answer_is_scored_again(project):
    ann = member(project, "ann", "coder")
    (annotation,) = answer_checks(project, ann, [False])
    checks.score_pending(project)
    answer = CheckAnswer.objects.get(project=project)
    assert not answer.correct
    submit_annotation(
        coder=ann,
        assignment=annotation.assignment,
        labels={"topic": "arms", "stance": "neutral", "tags": []},
    )
    assert checks.score_pending(project) == 1
    answer.refresh_from_db()
    assert answer.correct and answer.change > annotation.change
    assert CheckAnswer.objects.filter(project=project).count() == 1
    assert checks.score_pending(project) == 0


def test_a_rebuilt_pool_numbering_again_is_still_scored(project):
    """After a restore the pool's change numbers start again below the scored
    ones: its answers are still found (and the scored ones not rewritten)."""
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [True, True])
    checks.score_pending(project)
    CheckAnswer.objects.filter(project=project).update(change=1000)
    answer_checks(project, ann, [False])
    assert checks.score_pending(project) == 3  # the two re-marked ones too
    assert checks.score_pending(project) == 0
    assert CheckAnswer.objects.filter(project=project).count() == 3


def test_items_matched_by_span_and_reference_codes(project):
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [True])
    ref = ReferenceItem.objects.get(project=project, use="check")
    ReferenceItem.objects.filter(pk=ref.pk).update(
        codes={"topic": ["trade"], "stance": ["neutral"], "tags": []}
    )
    checks.score_pending(project)
    answer = CheckAnswer.objects.get()
    assert answer.item_id == ref.pk and answer.coder_id == ann.pk
    assert answer.matched == {"topic": False, "stance": True, "tags": True}


def test_series_is_the_rolling_accuracy_over_the_window(project):
    project.check_window = 4
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [True, True, False, False, True, False])
    checks.score_pending(project)
    points = checks.series(project, ann)
    assert [p.n for p in points] == [1, 2, 3, 4, 5, 6]
    assert [p.accuracy["topic"] for p in points] == [1, 1, 2 / 3, 0.5, 0.5, 0.25]
    assert all(p.accuracy["stance"] == 1 for p in points)
    assert [p.window for p in points] == [1, 2, 3, 4, 4, 4]
    assert points[-1].all_right == 0.25


def test_a_drifting_coder_raises_an_alert_a_steady_one_not(project):
    drifting = member(project, "dana", "coder")
    steady = member(project, "sam", "coder")
    start = timezone.now() - timedelta(days=2)
    answer_checks(project, drifting, DRIFT, start=start)
    answer_checks(project, steady, [True] * 18 + [False, True], start=start)
    found = checks.alerts(project)
    assert [(a.username, a.dimension) for a in found] == [("dana", "topic")]
    (alert,) = found
    assert alert.coder == drifting.pk and alert.n == 20
    assert alert.accuracy == pytest.approx(0.6)  # the last 20: 10 + 2 right
    # The window ends on the last answers: five more wrong ones bring it lower.
    answer_checks(project, drifting, [False] * 5, start=start + timedelta(hours=1))
    assert checks.alerts(project)[0].accuracy == pytest.approx(7 / 20)


def test_no_alert_below_five_answers(project):
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [False] * 4)
    assert checks.alerts(project) == []
    answer_checks(project, ann, [False])
    assert [a.dimension for a in checks.alerts(project)] == ["topic"]


def test_alerts_follow_the_project_threshold(project):
    ann = member(project, "ann", "coder")
    answer_checks(project, ann, [True] * 7 + [False] * 3)  # 70%
    assert [a.dimension for a in checks.alerts(project)] == ["topic"]
    project.check_min_accuracy = 0.7
    assert checks.alerts(project) == []
