"""Managers see the corpora their projects need, and cannot probe for usernames."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Membership
from annotator.services import create_project, set_membership
from corpus.models import Corpus
from tests.factories import CorpusFactory, UserFactory, make_codebook, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(manager):
    project = make_project(documents=1, coders=["my-coder"])
    set_membership(project=project, user=manager, role=Membership.Role.MANAGER)
    return project


@pytest.fixture
def theirs():
    project = make_project(documents=1, coders=["their-coder"])
    project.corpus.name = "Their secret corpus"
    project.corpus.save()
    return project


def test_corpus_pages_show_only_the_managers_corpora(client, manager, mine, theirs):
    fresh = CorpusFactory(name="Fresh import")  # in no project yet: to build one on
    client.force_login(manager)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        listing = client.get(reverse("corpus-list"), **headers)
        assert mine.corpus.name in listing.text and fresh.name in listing.text
        assert "Their secret corpus" not in listing.text
        home = client.get(reverse("home"), **headers)
        assert "Their secret corpus" not in home.text
        own = client.get(reverse("corpus-detail", args=[mine.corpus_id]), **headers)
        assert own.status_code == 200
        hidden = client.get(
            reverse("corpus-detail", args=[theirs.corpus_id]), **headers
        )
        assert hidden.status_code == 404
    document = theirs.corpus.documents.first()
    assert client.get(reverse("document-detail", args=[document.pk])).status_code == 404
    own_document = mine.corpus.documents.first()
    assert (
        client.get(reverse("document-detail", args=[own_document.pk])).status_code
        == 200
    )
    form = client.get(reverse("project-create")).text
    assert "Their secret corpus" not in form and "their-coder" not in form
    assert "Their secret corpus" not in client.get(reverse("corpus-import")).text


def test_staff_still_see_every_corpus(client, mine, theirs):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert "Their secret corpus" in client.get(reverse("corpus-list")).text


@pytest.mark.parametrize("htmx", [False, True])
def test_adding_a_member_does_not_reveal_whether_a_username_exists(
    client, manager, mine, theirs, htmx
):
    UserFactory(username="ops-root", is_staff=True)
    client.force_login(manager)
    url = reverse("project-members", args=[mine.pk])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    answers = {}
    for name in ("their-coder", "ops-root", "nobody-at-all"):
        response = client.post(
            url, {"op": "add", "username": name, "role": "coder"}, **headers
        )
        assert response.status_code == 200
        # Each rendering carries a fresh CSRF token: the rest must be identical.
        answers[name] = re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.text).replace(
            name, "NAME"
        )
    assert answers["their-coder"] == answers["ops-root"] == answers["nobody-at-all"]
    assert "No user named" in answers["ops-root"]
    assert not mine.memberships.filter(user__username="their-coder").exists()
    # A new account in no project yet can be recruited.
    UserFactory(username="recruit")
    response = client.post(
        url, {"op": "add", "username": "recruit", "role": "coder"}, **headers
    )
    assert response.status_code in (200, 303)
    assert mine.memberships.filter(user__username="recruit").exists()


def test_a_corpus_another_manager_imported_stays_theirs(client, manager, mine):
    """A corpus a manager uploads, in no project yet, is theirs alone (and staff's):
    another manager neither lists it, opens it, nor imports into it."""
    other = UserFactory(username="other-manager")
    other.groups.add(*manager.groups.all())
    client.force_login(other)
    upload = SimpleUploadedFile("talks.txt", b"Embargo talks\n\nA first paragraph.")
    response = client.post(
        reverse("corpus-import"),
        {
            "new_corpus_name": "Other's draft",
            "files": upload,
            "segmentation": "paragraph",
        },
    )
    assert response.status_code in (302, 303)
    drafted = Corpus.objects.get(name="Other's draft")
    assert drafted.created_by == other
    assert client.get(reverse("corpus-detail", args=[drafted.pk])).status_code == 200
    client.force_login(manager)
    assert "Other's draft" not in client.get(reverse("corpus-list")).text
    assert "Other's draft" not in client.get(reverse("project-create")).text
    assert "Other's draft" not in client.get(reverse("corpus-import")).text
    assert client.get(reverse("corpus-detail", args=[drafted.pk])).status_code == 404
    # Once it is in a project of theirs, they see it.
    create_project(
        name="Built on it",
        corpus=drafted,
        codebook=make_codebook(),
        members={manager: Membership.Role.MANAGER},
        coders_per_span=1,
    )
    assert client.get(reverse("corpus-detail", args=[drafted.pk])).status_code == 200
