"""The demo's coder training: reference items from gold, checks, a drifting coder."""

import pytest
from django.core.management import call_command

from annotator.demo import SIMULATED_PROJECT
from annotator.demo_training import DRIFTING_CODER, RIGHT_AT_FIRST, SETS
from annotator.models import (
    Annotation,
    CheckAnswer,
    DesignChange,
    GoldLabel,
    Project,
    ReferenceItem,
)
from annotator.training import checks
from annotator.training.pool import pool_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulated():
    call_command("load_demo")
    return Project.objects.get(name=SIMULATED_PROJECT)


def test_reference_items_come_from_decided_gold_with_explanations(simulated):
    items = ReferenceItem.objects.filter(project=simulated)
    assert {use: items.filter(use=use).count() for use, _ in SETS} == dict(SETS)
    for item in items:
        gold = dict(
            GoldLabel.objects.filter(project=simulated, span=item.span).values_list(
                "dimension__key", "category__key"
            )
        )
        assert item.codes == {key: [value] for key, value in gold.items()}
        assert item.source == "gold" and "gold for this span" in item.explanation
    assert simulated.check_rate == 20
    change = DesignChange.objects.get(project=simulated)
    assert change.changed_by.username == "manager"
    assert "hidden checks off → about 1 in 20" in change.summary


def test_sim_dana_meets_only_checks_and_drifts_into_an_alert(simulated):
    answers = list(
        CheckAnswer.objects.filter(coder__username=DRIFTING_CODER).order_by(
            "answered_at"
        )
    )
    assert len(answers) == dict(SETS)["check"]
    assert [a.correct for a in answers] == [
        i < RIGHT_AT_FIRST for i in range(len(answers))
    ]
    # Her answers are claims in the reference pool: none is a rating of the study.
    assert (
        not Annotation.objects.for_project(simulated)
        .filter(assignment__coder__username=DRIFTING_CODER)
        .exists()
    )
    assert Annotation.objects.filter(
        assignment__project_id=pool_id(simulated),
        assignment__coder__username=DRIFTING_CODER,
    ).count() == len(answers)
    alerts = checks.alerts(simulated)
    assert {a.username for a in alerts} == {DRIFTING_CODER}
    assert {a.dimension for a in alerts} == {"topic", "stance"}


def test_loading_again_changes_nothing(simulated):
    counts = (ReferenceItem.objects.count(), CheckAnswer.objects.count())
    call_command("load_demo")
    assert (ReferenceItem.objects.count(), CheckAnswer.objects.count()) == counts
    assert DesignChange.objects.filter(project=simulated).count() == 1
