"""The reliability report says when active learning was on: a fact read from the
DesignChange rows, and a methods sentence only when it was ever on."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from annotator.agreement_report.methods import paragraph
from annotator.agreement_report.reliability import reliability_report
from annotator.models import DesignChange
from annotator.services.active_learning import switch_active_learning
from tests.annotator.test_reliability_methods import BASE
from tests.factories import make_coded_project

MAY_3 = datetime(2026, 5, 3, 10, tzinfo=UTC)
JUNE_9 = datetime(2026, 6, 9, 16, tzinfo=UTC)
SAID = (
    "the single-coded remainder was served most-uncertain first by a machine "
    "coder (active learning); the reliability sample kept its random draw."
)


def text(**facts) -> str:
    return paragraph(dataclasses.replace(BASE, **facts))[0]


def test_the_sentence_appears_only_when_it_was_on():
    assert "active learning" not in text()
    assert "active learning" not in text(active_learning=())
    assert f"From 3 May to 9 June 2026 {SAID}" in text(
        active_learning=((MAY_3, JUNE_9),)
    )


def test_the_sentence_follows_the_dates():
    later = JUNE_9 + timedelta(days=30)
    assert f"From 3 May to 9 July 2026 {SAID}" in text(
        active_learning=((MAY_3, later),)
    )
    assert f"On 3 May 2026 {SAID}" in text(
        active_learning=((MAY_3, MAY_3 + timedelta(hours=2)),)
    )
    assert f"From 3 May 2026 onwards {SAID}" in text(active_learning=((MAY_3, None),))
    new_year = datetime(2027, 1, 4, tzinfo=UTC)
    assert f"From 3 May 2026 to 4 January 2027 {SAID}" in text(
        active_learning=((MAY_3, new_year),)
    )
    assert f"From 3 May to 9 June 2026 and from 4 January 2027 onwards {SAID}" in text(
        active_learning=((MAY_3, JUNE_9), (new_year, None))
    )


@pytest.mark.django_db
def test_the_fact_and_the_sentence_come_from_the_switches():
    project = make_coded_project(documents=2)
    facts = reliability_report(project).facts
    assert facts.active_learning == ()
    assert "active learning" not in reliability_report(project).paragraph
    for on, when in ((True, MAY_3), (False, JUNE_9)):
        change = switch_active_learning(project, on)
        DesignChange.objects.filter(pk=change.pk).update(changed_at=when)
    report = reliability_report(project)
    assert report.facts.active_learning == ((MAY_3, JUNE_9),)
    assert f"From 3 May to 9 June 2026 {SAID}" in report.paragraph
    assert report.facts.design_changes == ()  # not a change of the sample's design
