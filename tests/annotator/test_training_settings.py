"""Training settings: the service's checks in words, the DesignChange, the page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.models import DesignChange, Project
from annotator.services.lifecycle import close_project
from annotator.services.training_settings import (
    DEFAULTS,
    KEEP,
    change_training_settings,
    history,
    values,
)
from tests.factories import make_project, make_reference_items, member

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann"], manager=manager
    )


def url(project):
    return reverse("project-training-settings", args=[project.pk])


def form(project, **changes):
    data = {k: ("" if v is None else v) for k, v in values(project).items()}
    data.update(changes)
    return data


def test_a_new_project_has_the_defaults(project):
    assert values(project) == DEFAULTS


def test_a_change_is_applied_and_recorded_as_a_design_change(project, manager):
    make_reference_items(project, 3, "check")
    make_reference_items(project, 2, "test")
    change = change_training_settings(
        project,
        by=manager,
        certification_gate="require",
        check_rate=20,
        certification_min_percent=0.9,
    )
    project.refresh_from_db()
    assert project.certification_gate == "require"
    assert project.check_rate == 20
    assert project.certification_min_percent == 0.9
    assert change.changed_by == manager
    assert change.before == DEFAULTS
    assert change.after == values(project)
    assert change.change is None  # the queue's targets did not move
    assert change.summary == (
        "Training settings: gate off → require; test percent agreement at least "
        "not required → 90%; hidden checks off → about 1 in 20."
    )
    assert list(history(project)) == [change]


def test_unchanged_settings_are_kept_and_none_clears_the_percent(project):
    change_training_settings(project, certification_min_percent=0.5)
    change_training_settings(project, certification_min_percent=None, check_window=30)
    project.refresh_from_db()
    assert project.certification_min_percent is None
    assert project.check_window == 30
    assert project.certification_min_alpha == 0.8
    change_training_settings(project, certification_min_alpha=KEEP, check_window=40)
    assert DesignChange.objects.filter(project=project).count() == 3


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"check_rate": 1},
            "check_rate",
            "0 (no hidden checks) or a whole number from 2",
        ),
        ({"check_rate": -3}, "check_rate", "got -3"),
        ({"check_rate": 2.5}, "check_rate", "got 2.5"),
        ({"certification_min_alpha": 1.2}, "certification_min_alpha", "from −1 to 1"),
        ({"certification_min_alpha": -1.5}, "certification_min_alpha", "got -1.5"),
        ({"certification_min_percent": 90}, "certification_min_percent", "from 0 to 1"),
        ({"check_min_accuracy": 1.01}, "check_min_accuracy", "a share from 0 to 1"),
        ({"check_window": 4}, "check_window", "from 5"),
        (
            {"certification_items": -1},
            "certification_items",
            "from 0 (every test item)",
        ),
        ({"certification_gate": "maybe"}, "certification_gate", "off, warn, require"),
        ({"check_rate": True}, "check_rate", "got True"),
    ],
)
def test_bad_values_are_refused_in_words_and_nothing_is_written(
    project, changes, field, words
):
    with pytest.raises(ValidationError) as caught:
        change_training_settings(project, **{"certification_items": 3, **changes})
    assert list(caught.value.message_dict) == [field]
    assert words in caught.value.message_dict[field][0]
    project.refresh_from_db()
    assert values(project) == DEFAULTS
    assert not DesignChange.objects.filter(project=project).exists()


def test_nothing_to_change_and_unknown_settings_are_refused(project):
    with pytest.raises(ValidationError, match="Nothing to change"):
        change_training_settings(project, check_rate=0)
    with pytest.raises(ValidationError, match="Not a training setting: lease_minutes"):
        change_training_settings(project, lease_minutes=5)


def test_checks_without_check_items_are_allowed_with_a_warning(project):
    change = change_training_settings(project, check_rate=20)
    assert Project.objects.get(pk=project.pk).check_rate == 20
    assert "Warning: there are no hidden-check items yet" in change.summary
    make_reference_items(project, 1, "check")
    change = change_training_settings(project, check_rate=10)
    assert "Warning" not in change.summary


def test_a_gate_without_enough_test_items_warns(project):
    change = change_training_settings(project, certification_gate="warn")
    assert "no certification test items yet" in change.summary
    make_reference_items(project, 2, "test")
    change = change_training_settings(project, certification_items=5)
    assert "a test asks for 5 items but there are only 2" in change.summary


def test_a_closed_project_may_change_them_as_it_may_change_its_design(project):
    close_project(project)
    change_training_settings(project, check_rate=5)
    assert Project.objects.get(pk=project.pk).check_rate == 5


def test_the_page_explains_each_setting_with_its_default(client, project, manager):
    client.force_login(manager)
    response = client.get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for words in (
        "Default: off.",
        "Default: 0.80.",
        "Default: empty, not required.",
        "Default: 0 (off).",
        "Default: 20.",
        "suggested rate is 20",
        "never enter agreement, gold or exports",
        "have not changed since the project was created",
    ):
        assert words in html
    for name in DEFAULTS:
        assert f'for="id_{name}"' in html


def test_the_page_saves_a_change_and_shows_it_in_the_history(client, project, manager):
    client.force_login(manager)
    response = client.post(url(project), form(project, check_rate=20, check_window=30))
    assert response.status_code == 303
    assert response["Location"] == url(project)
    project.refresh_from_db()
    assert (project.check_rate, project.check_window) == (20, 30)
    html = client.get(url(project)).content.decode()
    assert (
        "hidden checks off → about 1 in 20; rolling window 20 checks → 30 checks"
        in html
    )
    assert "Warning: there are no hidden-check items yet" in html  # the message too
    assert "manager" in html


def test_the_page_shows_the_service_messages_on_their_fields(client, project, manager):
    client.force_login(manager)
    response = client.post(url(project), form(project, check_rate=1))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The check rate must be 0 (no hidden checks)" in html
    assert Project.objects.get(pk=project.pk).check_rate == 0
    response = client.post(url(project), form(project))
    assert "Nothing to change" in response.content.decode()


def test_htmx_gets_the_form_alone_and_a_client_redirect(client, project, manager):
    client.force_login(manager)
    response = client.get(url(project), headers=HTMX)
    html = response.content.decode()
    assert 'id="settings-form"' in html and "<h1" not in html and "History" not in html
    response = client.post(url(project), form(project, check_rate="x"), headers=HTMX)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    response = client.post(url(project), form(project, check_rate=4), headers=HTMX)
    assert response["HX-Redirect"] == url(project)


@pytest.mark.parametrize("role", ["coder", "reviewer"])
def test_other_members_are_refused(client, project, role):
    client.force_login(member(project, f"a-{role}", role))
    assert client.get(url(project)).status_code == 403
    assert client.post(url(project), form(project, check_rate=4)).status_code == 403
    assert Project.objects.get(pk=project.pk).check_rate == 0


def test_the_page_reads_few_queries(
    client, project, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    for rate in (5, 6, 7):
        change_training_settings(project, check_rate=rate, by=manager)
    with django_assert_max_num_queries(8):
        assert client.get(url(project)).status_code == 200


def test_the_page_counts_reference_items_and_warns_of_what_cannot_work_yet(
    client, project, manager
):
    client.force_login(manager)
    change_training_settings(project, certification_gate="require", check_rate=20)
    html = client.get(url(project)).content.decode()
    assert "0 for practice, 0 for the test, 0 hidden checks" in html
    assert "no hidden-check items yet" in html
    assert "no certification test items yet" in html
    make_reference_items(project, 2, "test")
    make_reference_items(project, 1, "check")
    (retired,) = make_reference_items(project, 1, "check")
    retired.retired_at = retired.created_at
    retired.save()
    html = client.get(url(project)).content.decode()
    assert "0 for practice, 2 for the test, 1 hidden check." in html
    assert 'class="warning"' not in html
