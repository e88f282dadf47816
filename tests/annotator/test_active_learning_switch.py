"""Managers switch active learning on the design page: each switch is a
DesignChange with before/after {"active_learning": bool}, and the page says when
it was on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from annotator.models import DesignChange
from annotator.services.active_learning import periods, switch_active_learning
from tests.factories import make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann"], manager=manager
    )


def switch_url(project):
    return reverse("project-active-learning", args=[project.pk])


def test_a_switch_is_recorded_as_a_design_change(client, manager, project):
    client.force_login(manager)
    response = client.post(switch_url(project), {"active_learning": "on"})
    assert response.status_code == 303
    assert response.url == reverse("project-design", args=[project.pk])
    project.refresh_from_db()
    assert project.active_learning
    change = DesignChange.objects.get(project=project)
    assert (change.before, change.after) == (
        {"active_learning": False},
        {"active_learning": True},
    )
    assert change.changed_by == manager
    assert "most uncertain first" in change.summary
    assert "no span has an uncertainty yet" in change.summary  # never predicted
    page = client.get(response.url).text
    assert "Active learning on:" in page  # the message
    assert "It was on from" in page and "until now" in page
    assert "Turn active learning off" in page


def test_htmx_switch_redirects_the_page_and_switches_off(client, manager, project):
    switch_active_learning(project, True, by=manager)
    client.force_login(manager)
    response = client.post(
        switch_url(project), {"active_learning": "off"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse(
        "project-design", args=[project.pk]
    )
    project.refresh_from_db()
    assert not project.active_learning
    assert [c.after for c in DesignChange.objects.filter(project=project)] == [
        {"active_learning": False},
        {"active_learning": True},
    ]  # newest first
    page = client.get(reverse("project-design", args=[project.pk])).text
    assert "It was on from" in page and "until now" not in page
    assert "Turn active learning on" in page


def test_switching_to_what_it_is_changes_nothing_and_says_so(client, manager, project):
    client.force_login(manager)
    response = client.post(switch_url(project), {}, follow=True)  # off, as it is
    assert "Nothing to change: active learning is off already." in response.text
    assert not DesignChange.objects.filter(project=project).exists()
    with pytest.raises(ValidationError, match="is off already"):
        switch_active_learning(project, False)


def test_periods_follow_the_switches(manager, project):
    assert periods(project) == []
    start = timezone.now()
    for hours, on in ((0, True), (5, False), (9, True)):
        change = switch_active_learning(project, on, by=manager)
        DesignChange.objects.filter(pk=change.pk).update(
            changed_at=start + timedelta(hours=hours)
        )
    assert periods(project) == [
        (start, start + timedelta(hours=5)),
        (start + timedelta(hours=9), None),
    ]


def test_the_design_page_never_on(client, manager, project):
    client.force_login(manager)
    response = client.get(reverse("project-design", args=[project.pk]))
    assert "It has never been on." in response.text
    partial = client.get(reverse("project-design", args=[project.pk]), headers=HTMX)
    assert partial.status_code == 200 and "<html" not in partial.text
