"""A span's whole document, read-only: who may open it; it shows text only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from annotator.models import Assignment, Membership
from annotator.services import claim_next_span, set_membership, submit_annotation
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}
SECRET = "THE-OTHER-CODERS-COMMENT"


@pytest.fixture
def project():
    return make_project(documents=2, spans_per_document=3, coders=["c1", "c2"])


def user(name):
    return User.objects.get(username=name)


def page(client, project, document_id, span=None):
    url = reverse("project-document", args=[project.pk, document_id])
    return client.get(url + (f"?span={span}" if span else ""))


def test_a_coder_with_a_live_claim_reads_the_document_with_the_span_marked(
    client, project
):
    claim = claim_next_span(project=project, coder=user("c1"))
    client.force_login(user("c1"))
    response = page(client, project, claim.span.document_id, claim.span_id)
    assert response.status_code == 200
    mark = '<mark class="span-here" id="span-here" tabindex="-1">'
    assert f"{mark}{claim.span.text}</mark>" in response.text
    for other in claim.span.document.spans.exclude(pk=claim.span_id):
        assert other.text in response.text  # the whole text, not the span alone


def test_a_submitted_code_keeps_the_document_open_a_lapsed_claim_does_not(
    client, project
):
    claim = claim_next_span(project=project, coder=user("c1"))
    submit_annotation(coder=user("c1"), assignment=claim, labels=LABELS)
    client.force_login(user("c1"))
    assert page(client, project, claim.span.document_id).status_code == 200
    lapsed = claim_next_span(project=project, coder=user("c1"))
    Assignment.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    if lapsed.span.document_id != claim.span.document_id:
        assert page(client, project, lapsed.span.document_id).status_code == 404


def test_a_coder_without_a_claim_or_code_on_it_is_refused(client, project):
    claim = claim_next_span(project=project, coder=user("c1"))
    other_document = project.corpus.documents.exclude(pk=claim.span.document_id)
    client.force_login(user("c2"))  # nothing claimed
    assert page(client, project, claim.span.document_id).status_code == 404
    client.force_login(user("c1"))
    assert page(client, project, other_document.first().pk).status_code == 404


def test_another_projects_coder_is_refused_and_reviewers_read_any_document(
    client, project
):
    claim = claim_next_span(project=project, coder=user("c1"))
    elsewhere = make_project(documents=1, spans_per_document=1, coders=["c9"])
    claim_next_span(project=elsewhere, coder=user("c9"))
    client.force_login(user("c9"))
    assert page(client, project, claim.span.document_id).status_code == 404
    # Not through their own project either: the document is not in its corpus.
    assert page(client, elsewhere, claim.span.document_id).status_code == 404
    reviewer = UserFactory()
    set_membership(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    client.force_login(reviewer)
    for document in project.corpus.documents.all():
        assert page(client, project, document.pk).status_code == 200
    assert page(client, elsewhere, claim.span.document_id).status_code == 404


def test_the_page_shows_no_codes_of_anyone(client, project):
    first = claim_next_span(project=project, coder=user("c2"))
    submit_annotation(coder=user("c2"), assignment=first, labels=LABELS, comment=SECRET)
    mine = claim_next_span(project=project, coder=user("c1"))
    assert mine.span_id == first.span_id  # both code it: k = 2 in the sample
    client.force_login(user("c1"))
    html = page(client, project, mine.span.document_id, mine.span_id).text
    assert SECRET not in html and "c2" not in html
    assert "Arms" not in html and "arms" not in html


def test_the_coding_screen_links_the_whole_document(client, project):
    client.force_login(user("c1"))
    html = client.get(reverse("project-code", args=[project.pk])).text
    claim = Assignment.objects.live().get(project=project, coder=user("c1"))
    link = reverse("project-document", args=[project.pk, claim.span.document_id])
    assert f"{link}?span={claim.span_id}#span-here" in html
