"""The codebook version pages: what changed, and the project's move with its preview."""

import pytest
from django.urls import reverse

from annotator.codebooks import content_digest, import_codebook
from annotator.models import Assignment, Job, JobKind, JobState
from annotator.services import set_membership
from tests.factories import SMALL_CODEBOOK, TOPICS, make_topics_project, newer_data

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
POLLING = 'hx-trigger="every 2s"'


@pytest.fixture
def project(manager):
    project = make_topics_project(tags=["quote"])
    set_membership(project=project, user=manager, role="manager")
    return project


@pytest.fixture
def newer(project):
    return import_codebook(newer_data())[0]


def changes_url(old=1, new=2):
    return reverse("codebook-changes", args=["test-codebook", old, new])


def test_changes_page_in_words_full_and_partial(manager_client, newer):
    page = manager_client.get(changes_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>" in text and "version 1 → version 2" in text
    assert "Category other of topic (“Other”) removed." in text
    assert "Category arms of topic renamed: “Arms” → “Arms control”." in text
    assert "redefined: definition changed." in text
    partial = manager_client.get(changes_url(), headers=HTMX)
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert 'id="codebook-changes"' in body and "removed." in body


def test_changes_page_unknown_version_is_404(manager_client, newer):
    assert manager_client.get(changes_url(1, 9)).status_code == 404


def test_move_page_previews_then_moves(manager_client, project, newer):
    url = reverse("project-codebook", args=[project.pk])
    page = manager_client.get(url)
    assert page.status_code == 200
    assert "version 2: Test codebook" in page.content.decode()
    preview = manager_client.post(
        reverse("project-codebook-preview", args=[project.pk]),
        {"version": 2},
        headers=HTMX,
    )
    body = preview.content.decode()
    assert preview.status_code == 200 and "<html" not in body
    assert 'id="move-preview"' in body
    assert "4 annotations go back to the coders who made them" in body
    assert body.count("topic: trade") == 2 and body.count("topic: other") == 2
    assert changes_url() in body
    # Without JavaScript: the whole page with the preview.
    full = manager_client.post(
        reverse("project-codebook-preview", args=[project.pk]), {"version": 2}
    )
    assert "<html" in full.content.decode() and "Effect of this move" in (
        full.content.decode()
    )
    project.refresh_from_db()
    assert project.codebook.version == 1  # a preview writes nothing
    # A job (the immediate backend runs it in the request; a worker elsewhere).
    moved = manager_client.post(url, {"version": 2})
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    assert moved.status_code == 303
    assert moved["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.DONE and job.options == {
        "codebook": newer.pk,
        "version": 2,
        "content": content_digest(newer),  # what the page showed
    }
    project.refresh_from_db()
    assert project.codebook == newer
    assert Assignment.objects.filter(status="recode").count() == 4
    shown = manager_client.get(moved["Location"]).content.decode()
    assert "codebook move to version 2" in shown and "moved to version 2" in shown
    assert "moves from version 1 to version 2" in shown  # the result in words
    after = manager_client.get(url).content.decode()
    assert "No newer version of this codebook exists." in after
    assert "Last move:" in after and POLLING not in after
    design = manager_client.get(reverse("project-design", args=[project.pk]))
    assert "moves from version 1 to version 2" in design.content.decode()
    assert len(TOPICS) == 3


def test_move_page_htmx_post_redirects_the_client(manager_client, project, newer):
    url = reverse("project-codebook", args=[project.pk])
    moved = manager_client.post(url, {"version": 2}, headers=HTMX)
    job = Job.objects.get(kind=JobKind.CODEBOOK_MOVE)
    assert moved.status_code == 200
    assert moved["HX-Redirect"] == reverse("job-detail", args=[job.pk])


def test_move_page_refuses_an_unknown_version(manager_client, project, newer):
    import_codebook({**SMALL_CODEBOOK, "family": "elsewhere"})
    response = manager_client.post(
        reverse("project-codebook-preview", args=[project.pk]), {"version": 7}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    project.refresh_from_db()
    assert project.codebook.version == 1


def test_coder_and_reviewer_may_not_move(client, project, newer):
    coder = project.memberships.get(user__username="ann").user
    client.force_login(coder)
    url = reverse("project-codebook", args=[project.pk])
    assert client.post(url, {"version": 2}).status_code == 403
    project.refresh_from_db()
    assert project.codebook.version == 1


def test_coder_is_told_to_code_again(client, project, newer):
    from annotator.services.codebook_move import move_codebook

    move_codebook(project=project, new=newer, by=None)
    coder = project.memberships.get(user__username="ann").user
    client.force_login(coder)
    page = client.get(reverse("project-code", args=[project.pk]))
    text = page.content.decode()
    assert "code it again" in text
    # The codes that kept their meaning are filled in.
    assert 'name="stance" value="neutral" data-keys="s" checked' in text
    assert 'name="topic" value="energy" data-keys="3">' in text
