"""Closing, reopening and cloning a project: services, pages, the coders' API."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import Annotation, Assignment, Membership, Project, WorkItem
from annotator.services import claim_next_span, set_membership, submit_annotation
from annotator.services.closed import ProjectClosed
from annotator.services.lifecycle import clone_project, close_project, reopen_project
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
LABELS = {"topic": "arms", "stance": "neutral"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2, spans_per_document=3, coders=["ann", "bob"], manager=manager
    )


def member(project, name):
    return project.memberships.get(user__username=name).user


def api_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def lifecycle_url(project):
    return reverse("project-lifecycle", args=[project.pk])


def clone_url(project):
    return reverse("project-clone", args=[project.pk])


def test_close_gives_claims_back_keeps_codes_and_refuses_claims(project):
    ann, bob = member(project, "ann"), member(project, "bob")
    done = claim_next_span(project=project, coder=ann)
    submit_annotation(coder=ann, assignment=done, labels=LABELS)
    held = claim_next_span(project=project, coder=bob)
    assert close_project(project) == 1
    held.refresh_from_db()
    assert held.status == Assignment.Status.EXPIRED
    # Bob joined the span Ann coded: her coding keeps its place, his claim is gone.
    assert WorkItem.objects.get(pk=held.work_item_id).taken == 1
    assert Annotation.objects.filter(project=project).count() == 1
    with pytest.raises(ProjectClosed, match="This project is closed"):
        claim_next_span(project=project, coder=ann)
    with pytest.raises(ProjectClosed, match="closed"):
        submit_annotation(coder=bob, assignment=held, labels=LABELS)
    with pytest.raises(ValidationError, match="already closed"):
        close_project(project)


def test_reopen_takes_claims_again(project):
    ann = member(project, "ann")
    close_project(project)
    version = Project.objects.get(pk=project.pk).queue_version
    reopen_project(project)
    reopened = Project.objects.get(pk=project.pk)
    assert reopened.closed_at is None and reopened.queue_version == version + 1
    assert claim_next_span(project=project, coder=ann) is not None
    with pytest.raises(ValidationError, match="open"):
        reopen_project(project)


def test_api_claim_and_submit_say_closed(project):
    ann = member(project, "ann")
    api = api_for(ann)
    claimed = api.post(reverse("api-claim", args=[project.pk])).json()
    close_project(project)
    response = api.post(reverse("api-claim", args=[project.pk]))
    assert response.status_code == 409
    assert "This project is closed" in response.json()["detail"]
    response = api.post(
        reverse("api-submit", args=[claimed["assignment"]]),
        {"labels": LABELS},
        format="json",
    )
    assert response.status_code == 409 and "closed" in response.json()["detail"]
    reopen_project(project)
    assert api.post(reverse("api-claim", args=[project.pk])).status_code == 200


def test_coding_screen_says_closed_in_words(client, project):
    ann = member(project, "ann")
    close_project(project)
    client.force_login(ann)
    response = client.get(reverse("project-code", args=[project.pk]))
    assert response.status_code == 403
    assert b"This project is closed" in response.content
    partial = client.get(reverse("project-code", args=[project.pk]), headers=HTMX)
    assert b"This project is closed" in partial.content
    assert b"<html" not in partial.content


def test_a_closed_project_is_still_read(client, manager, project):
    ann = member(project, "ann")
    submit_annotation(
        coder=ann, assignment=claim_next_span(project=project, coder=ann), labels=LABELS
    )
    close_project(project)
    client.force_login(manager)
    page = client.get(project.get_absolute_url())
    assert page.status_code == 200 and b"This project is closed" in page.content
    for name in ("project-agreement", "project-adjudicate"):
        assert client.get(reverse(name, args=[project.pk])).status_code == 200
    api = api_for(manager)
    gold = api.get(reverse("api-gold-csv", args=[project.pk]))
    assert gold.status_code == 200
    rows = api.get(reverse("api-annotations-csv", args=[project.pk]))
    assert rows.status_code == 200 and b"imported" not in b"".join(rows)


def test_lifecycle_page_full_partial_close_and_reopen(client, manager, project):
    bob = member(project, "bob")
    claim_next_span(project=project, coder=bob)
    client.force_login(manager)
    full = client.get(lifecycle_url(project))
    assert full.status_code == 200 and b"<html" in full.content
    assert b"1 open claim will be given back" in full.content
    partial = client.get(lifecycle_url(project), headers=HTMX)
    assert b"<html" not in partial.content and b'id="lifecycle-form"' in partial.content
    refused = client.post(lifecycle_url(project), {}, headers=HTMX)
    assert refused.status_code == 200 and b"can only be closed now" in refused.content
    assert Project.objects.get(pk=project.pk).closed_at is None
    wrong = client.post(lifecycle_url(project), {"action": "reopen"})
    assert b"can only be closed now" in wrong.content
    done = client.post(lifecycle_url(project), {"action": "close"})
    assert done.status_code == 303
    assert Project.objects.get(pk=project.pk).closed_at is not None
    again = client.get(lifecycle_url(project))
    assert b"Reopen this project" in again.content
    htmx = client.post(lifecycle_url(project), {"action": "reopen"}, headers=HTMX)
    assert htmx.headers["HX-Redirect"] == project.get_absolute_url()
    assert Project.objects.get(pk=project.pk).closed_at is None


def test_clone_has_same_material_new_design_empty_queue(project, manager):
    ann = member(project, "ann")
    submit_annotation(
        coder=ann, assignment=claim_next_span(project=project, coder=ann), labels=LABELS
    )
    clone = clone_project(
        project, by=manager, name="Second wave", coders_per_span=1, lease_minutes=10
    )
    assert (clone.corpus_id, clone.codebook_id) == (
        project.corpus_id,
        project.codebook_id,
    )
    assert (clone.coders_per_span, clone.lease_minutes) == (1, 10)
    assert clone.total_codings == WorkItem.objects.filter(project=clone).count() == 6
    assert not Assignment.objects.filter(project=clone).exists()
    roles = dict(clone.memberships.values_list("user__username", "role"))
    assert roles == {"ann": "coder", "bob": "coder", "manager": "manager"}
    assert Annotation.objects.filter(project=project).count() == 1
    with pytest.raises(ValidationError, match="keeps the source's corpus"):
        clone_project(project, by=manager, name="x", corpus=make_project().corpus)


def test_clone_page_prefilled_full_partial_and_post(client, manager, project):
    client.force_login(manager)
    full = client.get(clone_url(project))
    assert full.status_code == 200 and b"<html" in full.content
    form = full.context["form"]
    assert form.initial["name"] == f"{project.name} (copy)"
    assert form.initial["coders_per_span"] == project.coders_per_span
    assert list(form.fields["codebook"].queryset) == [project.codebook]
    partial = client.get(clone_url(project), headers=HTMX)
    assert b"<html" not in partial.content and b'id="clone-form"' in partial.content
    empty = client.post(clone_url(project), {}, headers=HTMX)
    assert empty.status_code == 200 and b"required" in empty.content
    ann, bob = member(project, "ann"), member(project, "bob")
    response = client.post(
        clone_url(project),
        {
            "name": "Wave 2",
            "corpus": project.corpus_id,
            "codebook": project.codebook_id,
            "coders_per_span": 2,
            "sample_share": "50",
            "order": "document",
            "seed": 7,
            "lease_minutes": 30,
            "gold_rules": "unanimous,single",
            "gold_min_share": "50",
            "gold_min_posterior": "90",
            "coders": [ann.pk, bob.pk],
        },
    )
    assert response.status_code == 303
    clone = Project.objects.get(name="Wave 2")
    assert response["Location"] == clone.get_absolute_url()
    assert clone.seed == 7 and clone.sample_share == 0.5
    assert clone.memberships.filter(role=Membership.Role.CODER).count() == 2


def test_a_manager_outside_the_managers_group_may_not_clone(client, project):
    outside = UserFactory(username="lone-manager")
    set_membership(project=project, user=outside, role="manager")
    client.force_login(outside)
    response = client.get(clone_url(project))
    assert response.status_code == 403
    assert b"who may create projects" in response.content
    assert client.get(lifecycle_url(project)).status_code == 200
