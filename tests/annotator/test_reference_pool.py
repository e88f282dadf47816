"""The reference pool (training.pool): no reader, page or command is handed it."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import URLPattern, get_resolver, reverse
from rest_framework.authtoken.models import Token

from annotator.models import Project, ReferenceItem, WorkItem
from annotator.services.lifecycle import close_project
from annotator.training import pool
from tests.factories import UserFactory, make_project, make_reference_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    project = make_project(documents=2, spans_per_document=3, coders=("ann",))
    make_reference_items(project, 2, ReferenceItem.Use.CHECK)
    return project


def project_patterns():
    """Every URL pattern taking only a project id (pages and API)."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLPattern):
                yield entry
            else:
                yield from walk(entry.url_patterns)

    return [
        p
        for p in walk(get_resolver().url_patterns)
        if p.name and set(p.pattern.converters) == {"project_id"}
    ]


def test_the_pool_is_made_once_like_its_study_and_hidden(study):
    made = pool.ensure_pool(study)
    assert pool.ensure_pool(study) == made and pool.pool_id(study) == made.pk
    assert (made.corpus_id, made.codebook_id, made.lease_minutes) == (
        study.corpus_id,
        study.codebook_id,
        study.lease_minutes,
    )
    assert not made.memberships.exists()
    assert made.pool_of_id == study.pk and made.is_pool and not study.is_pool
    assert list(Project.objects.all()) == [study]  # the manager never returns it
    assert not Project.objects.filter(pk=made.pk).exists()
    assert pool.own_ids(study) == (study.pk, made.pk)
    assert pool.study_of(made) == study and pool.study_of(study) == study
    # One work item per check item, never full, served in random order.
    items = WorkItem.objects.filter(project=made)
    assert items.count() == 2
    assert {w.target for w in items} == {pool.POOL_TARGET}
    assert not any(w.in_sample for w in items)


def test_a_study_without_checks_reads_as_its_own_pool():
    project = make_project(documents=1, spans_per_document=2)
    assert pool.pool_id(project) is None
    assert pool.own_ids(project) == (project.pk, project.pk)


def test_the_pool_follows_its_studys_state(study):
    made = pool.ensure_pool(study)
    close_project(study)
    study.refresh_from_db()
    pool.sync_pool(study)
    assert Project.all_objects.get(pk=made.pk).closed_at == study.closed_at


def test_no_page_or_endpoint_opens_a_pool_even_for_staff(client, study):
    made = pool.ensure_pool(study)
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    token = Token.objects.create(user=staff).key
    patterns = project_patterns()
    assert len(patterns) > 20
    for pattern in patterns:
        url = reverse(pattern.name, kwargs={"project_id": made.pk})
        extra = {"HTTP_AUTHORIZATION": f"Token {token}"} if "/api/" in url else {}
        response = client.get(url, **extra)
        assert response.status_code in (404, 405), (url, response.status_code)
    listed = client.get(
        reverse("api-project-list"), HTTP_AUTHORIZATION=f"Token {token}"
    )
    body = listed.json()
    ids = {p["id"] for p in (body["results"] if isinstance(body, dict) else body)}
    assert study.pk in ids and made.pk not in ids
    assert f">{made.name}<" not in client.get(reverse("home")).content.decode()


def test_no_command_takes_a_pool(study):
    made = pool.ensure_pool(study)
    with pytest.raises(CommandError):
        call_command("agreement", "--project", str(made.pk))


def test_deleting_a_study_deletes_its_pool(study):
    made = pool.ensure_pool(study)
    study.delete()
    assert not Project.all_objects.filter(pk=made.pk).exists()
