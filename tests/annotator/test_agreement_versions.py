"""Agreement per codebook version: the report, the dashboard and the API."""

import csv
import io

import pytest
from django.urls import reverse

from annotator.agreement_report import project_report
from annotator.codebooks import import_codebook
from annotator.models import Project
from annotator.services import claim_next_span, set_membership, submit_annotation
from tests.factories import make_project, newer_data

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def code(project, n):
    """Each coder codes up to n spans: ann says arms, bob trade on odd spans."""
    for name in ("ann", "bob"):
        coder = project.memberships.get(user__username=name).user
        for _ in range(n):
            assignment = claim_next_span(project=project, coder=coder)
            if assignment is None:
                break
            topic = "trade" if name == "bob" and assignment.span.index % 2 else "arms"
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels={"topic": topic, "stance": "neutral"},
            )


@pytest.fixture
def project(manager):
    """Three spans coded under version 1, then the codebook switched (as the admin
    may, without a move) and three more coded under version 2."""
    project = make_project(documents=2, spans_per_document=3, coders=("ann", "bob"))
    set_membership(project=project, user=manager, role="manager")
    code(project, 3)
    newer = import_codebook(newer_data())[0]
    Project.objects.filter(pk=project.pk).update(codebook=newer)
    project.refresh_from_db()
    code(project, 3)
    return project


def ratings(report, key="topic"):
    return next(d for d in report.dimensions if d.key == key).n_ratings


def test_report_counts_one_version_default_the_projects(project):
    current = project_report(project, n_resamples=20)
    assert current.codebook_version == 2 and ratings(current) == 6
    # Version 2's scale: energy is there, other (removed) is not.
    topic = next(d for d in current.dimensions if d.key == "topic")
    assert [key for key, _ in topic.categories] == ["arms", "trade", "energy"]
    older = project.codebook.__class__.objects.get(family="test-codebook", version=1)
    first = project_report(project, codebook=older, n_resamples=20)
    assert first.codebook_version == 1 and ratings(first) == 6
    topic = next(d for d in first.dimensions if d.key == "topic")
    assert [key for key, _ in topic.categories] == ["arms", "trade", "other"]
    assert first.to_dict()["codebook_version"] == 1


def test_dashboard_by_version_full_and_partial(client, manager, project):
    client.force_login(manager)
    url = reverse("project-agreement", args=[project.pk])
    page = client.get(url).content.decode()
    assert 'name="version"' in page and "version 2 (the project's)" in page
    older = client.get(url, {"version": 1}).content.decode()
    assert "the annotations made under that version only" in older
    assert '<input type="hidden" name="version" value="1">' in older
    card = client.get(
        url, {"version": 1, "dimension": "topic", "over": "batch"}, headers=HTMX
    )
    body = card.content.decode()
    assert card.status_code == 200 and "<html" not in body
    assert 'id="card-topic"' in body and "6 ratings in all" in body
    assert client.get(url, {"version": 9}).status_code == 404
    assert client.get(url, {"version": "x"}).status_code == 400


def test_api_by_version(client, manager, project):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=manager).key
    url = reverse("api-project-agreement", args=[project.pk])
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get(url, **auth).json()["codebook_version"] == 2
    body = client.get(url, {"version": 1}, **auth).json()
    assert body["codebook_version"] == 1
    assert client.get(url, {"version": 3}, **auth).status_code == 404


def test_one_version_shows_no_choice(client, manager):
    project = make_project(documents=1, spans_per_document=2, coders=("ann", "bob"))
    set_membership(project=project, user=manager, role="manager")
    code(project, 2)
    client.force_login(manager)
    page = client.get(reverse("project-agreement", args=[project.pk])).content.decode()
    assert 'name="version"' not in page


def test_the_csv_download_by_version(client, manager, project):
    client.force_login(manager)
    url = reverse("project-agreement-csv", args=[project.pk])
    for asked, version in ((None, "2"), (1, "1"), (2, "2")):
        response = client.get(url, {"version": asked} if asked else {})
        assert response.status_code == 200
        assert f"agreement-v{version}.csv" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert rows and {r["codebook_version"] for r in rows} == {version}
        topic = {r["key"] for r in rows if r["breakdown"] == "category"}
        assert ("energy" in topic) == (version == "2")
    assert client.get(url, {"version": 9}).status_code == 404
    bad = client.get(url, {"version": "x"})
    assert bad.status_code == 400 and b"version must be" in bad.content


@pytest.mark.parametrize(
    "asked, status, words",
    [
        ({"version": 9}, 404, "No version 9 of this project's codebook."),
        ({"over": "year"}, 400, "over must be one of"),
        ({"batch_size": "0"}, 400, "batch_size must be between"),
    ],
)
def test_every_reader_of_the_report_refuses_a_request_in_the_same_words(
    client, manager, project, asked, status, words
):
    """The dashboard, its CSV and the API read a request through one function
    (agreement_report.report_request): same status, same words, own shape."""
    from rest_framework.authtoken.models import Token

    client.force_login(manager)
    page = client.get(reverse("project-agreement", args=[project.pk]), asked)
    csv_file = client.get(reverse("project-agreement-csv", args=[project.pk]), asked)
    token = Token.objects.create(user=manager).key
    api = client.get(
        reverse("api-project-agreement", args=[project.pk]),
        asked,
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert page.status_code == csv_file.status_code == api.status_code == status
    assert words in page.content.decode() and words in csv_file.content.decode()
    assert api.json()["detail"].startswith(words)
