"""Coders joining and leaving through the design page: the effect said before saving."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.models import Annotation, Assignment, DesignChange, Membership, Project
from annotator.services import (
    change_design,
    claim_next_span,
    preview_design,
    submit_annotation,
)
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LABELS = {"topic": "arms", "stance": "neutral"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann", "bob"], manager=manager
    )


def user(name):
    return User.objects.get(username=name)


def test_adding_a_coder_lets_k_rise_and_says_the_codings_it_adds(project):
    carol = UserFactory(username="carol")
    with pytest.raises(ValidationError, match="at least 3 coders"):
        preview_design(project, coders_per_span=3)
    effect = preview_design(project, coders_per_span=3, add_coders=[carol])
    assert effect.more == 6 and effect.fewer == 0
    assert effect.lines() == [
        "k 2 → 3",
        "Joining as coders: carol.",
        "2 coders → 3.",
        "6 more codings to hand out; 0 planned codings no longer needed; 0 codings "
        "are discarded.",
    ]
    assert not Membership.objects.filter(user=carol).exists()  # a preview
    change = change_design(project, coders_per_span=3, add_coders=[carol])
    assert Membership.objects.get(project=project, user=carol).role == "coder"
    assert Project.objects.get(pk=project.pk).total_codings == 18
    assert "Joining as coders: carol." in change.summary


def test_removing_a_coder_releases_claims_and_keeps_codings(project):
    ann = user("ann")
    for _ in range(2):
        submit_annotation(
            coder=ann,
            assignment=claim_next_span(project=project, coder=ann),
            labels=LABELS,
        )
    held = claim_next_span(project=project, coder=ann)
    effect = preview_design(project, remove_coders=[ann])
    line = (
        "Coder ann leaves: their 1 open claim released; their 2 submitted codings stay."
    )
    assert effect.lines() == [line, "2 coders → 1."]
    assert effect.changed and effect.more == effect.fewer == 0
    change = change_design(project, remove_coders=[ann])
    assert line in change.summary
    assert not Membership.objects.filter(project=project, user=ann).exists()
    held.refresh_from_db()
    assert held.status == Assignment.Status.EXPIRED
    assert (
        Annotation.objects.filter(project=project, assignment__coder=ann).count() == 2
    )


def test_coder_changes_are_checked(project, manager):
    ann = user("ann")
    with pytest.raises(ValidationError) as caught:
        preview_design(project, add_coders=[ann])
    assert caught.value.message_dict == {"add_coders": ["Already coders here: ann."]}
    with pytest.raises(ValidationError) as caught:
        preview_design(project, remove_coders=[manager])
    assert "remove_coders" in caught.value.message_dict
    # k stays 2 with one coder left: allowed (the project page warns); not k = 3.
    with pytest.raises(ValidationError, match="at least 3 coders; this project has 1"):
        change_design(project, coders_per_span=3, remove_coders=[ann])
    with pytest.raises(ValidationError, match="Nothing to change"):
        change_design(project)
    assert DesignChange.objects.filter(project=project).count() == 0


def design_url(project, preview=False):
    return reverse(
        "project-design-preview" if preview else "project-design", args=[project.pk]
    )


def form(project, **changes):
    return {
        "coders_per_span": project.coders_per_span,
        "sample_share": "100",
        "lease_minutes": project.lease_minutes,
        **changes,
    }


def test_page_previews_and_saves_coder_changes(client, manager, project):
    carol = UserFactory(username="carol")
    client.force_login(manager)
    page = client.get(design_url(project))
    assert b"Add coders" in page.content and b"Remove coders" in page.content
    preview = client.post(
        design_url(project, preview=True),
        form(project, coders_per_span=3, add_coders=[carol.pk]),
        headers=HTMX,
    )
    assert preview.status_code == 200 and b"<html" not in preview.content
    assert b"Joining as coders: carol." in preview.content
    assert b"6 more codings to hand out" in preview.content
    full = client.post(
        design_url(project, preview=True), form(project, remove_coders=[user("bob").pk])
    )
    assert b"<html" in full.content and b"Coder bob leaves" in full.content
    saved = client.post(
        design_url(project), form(project, remove_coders=[user("bob").pk])
    )
    assert saved.status_code == 303
    assert not Membership.objects.filter(project=project, user__username="bob").exists()
