"""A hidden check looks and behaves exactly like a real span to the coder: the
same JSON, the same card, the study's URLs, and every coder-facing read and write
(recent, my annotations, the document, skip and undo, revise, progress) works on
it. Also: a check claim runs as many statements as a real one (no timing tell)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from annotator import access
from annotator.models import Assignment, WorkItem
from annotator.progress import coder_progress
from annotator.services import claim_next_span, queue_checks, submit_annotation
from annotator.training.pool import pool_id
from corpus.db import portable
from corpus.models import Span
from tests.factories import (
    DueRandom,
    make_checks_project,
    make_project,
    make_reference_items,
)

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}
HX = {"HX-Request": "true"}


def due(monkeypatch, yes: bool) -> None:
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=yes, seed=5))


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def shape(value):
    """A JSON value's keys and types, without its values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


def check_on_index(project, span: Span) -> Span:
    """Make the span at ``span``'s index in another document a check item (its
    study place full, as if coded)."""
    twin = (
        Span.objects.filter(document__corpus_id=project.corpus_id, index=span.index)
        .exclude(document_id=span.document_id)
        .first()
    )
    make_reference_items(project, 1, "check", spans=[twin])
    WorkItem.objects.filter(project=project, span_id=twin.pk).update(
        taken=F("target")
    )
    project.check_rate = 20
    project.save(update_fields=["check_rate"])
    return twin


class Skeleton(HTMLParser):
    """Tags and attributes, digits and the random form token blanked; no text."""

    def __init__(self):
        super().__init__()
        self.parts: list = []

    def handle_starttag(self, tag, attrs):
        kept = []
        for name, value in attrs:
            if name in ("data-announce",):  # the span's words
                value = ""
            kept.append((name, re.sub(r"\d+", "#", value or "")))
        self.parts.append((tag, tuple(kept)))

    def handle_endtag(self, tag):
        self.parts.append(("/", tag))


def skeleton(html: str) -> list:
    html = re.sub(r'name="token" value="[^"]*"', 'name="token"', html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken"', html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "csrf", html)
    parser = Skeleton()
    parser.feed(html)
    return parser.parts


def test_the_claim_api_answers_a_check_in_a_real_claims_shape(monkeypatch):
    project = make_project(documents=3, spans_per_document=4, coders=["ann"])
    ann = User.objects.get(username="ann")
    due(monkeypatch, False)
    real = api(ann).post(reverse("api-claim", args=[project.pk]))
    assert real.status_code == 200
    first = Assignment.objects.get(pk=real.json()["assignment"])
    check_on_index(project, first.span)
    submit = api(ann).post(
        reverse("api-submit", args=[first.pk]), {"labels": LABELS}, format="json"
    )
    assert submit.status_code == 201
    due(monkeypatch, True)
    check = api(ann).post(reverse("api-claim", args=[project.pk]))
    assert check.status_code == 200
    check_id = check.json()["assignment"]
    assert Assignment.objects.get(pk=check_id).project_id == pool_id(project)
    assert shape(check.json()) == shape(real.json())
    answer = api(ann).post(
        reverse("api-submit", args=[check_id]), {"labels": LABELS}, format="json"
    )
    assert answer.status_code == 201
    assert shape(answer.json()) == shape(submit.json())
    # Its id sits between its neighbours' (one sequence for both).
    due(monkeypatch, False)
    after = api(ann).post(reverse("api-claim", args=[project.pk])).json()
    assert first.pk < check_id < after["assignment"]


def test_the_coding_card_of_a_check_is_a_real_cards_html(client, monkeypatch):
    project = make_project(documents=3, spans_per_document=4, coders=["ann"])
    ann = User.objects.get(username="ann")
    client.force_login(ann)
    url = reverse("project-code", args=[project.pk])
    due(monkeypatch, False)
    real_page, real_part = client.get(url).text, client.get(url, headers=HX).text
    first = Assignment.objects.get(coder=ann)
    check_on_index(project, first.span)
    submit_annotation(coder=ann, assignment=first.pk, labels=LABELS)
    due(monkeypatch, True)
    check_page, check_part = client.get(url).text, client.get(url, headers=HX).text
    check = Assignment.objects.get(coder=ann, status="claimed")
    assert check.project_id == pool_id(project)
    assert skeleton(check_page) == skeleton(real_page)
    assert skeleton(check_part) == skeleton(real_part)
    # The URLs on it are the study's.
    assert f'action="/projects/{project.pk}/code/"' in check_part
    assert f"/projects/{project.pk}/documents/" in check_part
    assert f"/projects/{pool_id(project)}/" not in check_page


def test_every_coder_facing_read_and_write_works_on_a_check(client, monkeypatch):
    project, items = make_checks_project(checks=2, coders=("ann",))
    ann = User.objects.get(username="ann")
    client.force_login(ann)
    study = access.coding_project(ann, project.pk)
    before = coder_progress(study, ann, study.n_coders)
    due(monkeypatch, True)
    check = claim_next_span(project=project, coder=ann)
    assert check.project_id == pool_id(project)
    # Skip it and undo the skip (API), then submit it from the page.
    skipped = api(ann).post(
        reverse("api-skip", args=[check.pk]), {"reason": "unclear"}, format="json"
    )
    assert skipped.status_code == 200
    recent = client.get(reverse("project-code-recent", args=[project.pk])).text
    assert reverse("project-code-unskip", args=[project.pk, check.pk]) in recent
    assert api(ann).post(reverse("api-unskip", args=[check.pk])).status_code == 200
    assert claim_next_span(project=project, coder=ann).pk == check.pk
    posted = client.post(
        reverse("project-code", args=[project.pk]),
        {"assignment": check.pk, "topic": "trade", "stance": "neutral"},
        headers=HX,
    )
    assert posted.status_code == 200
    assert Assignment.objects.get(pk=check.pk).status == "completed"
    after = coder_progress(access.coding_project(ann, project.pk), ann, 1)
    assert after.done == before.done + 1
    # Recent annotations and the API's own annotations list it; it reopens.
    recent = client.get(reverse("project-code-recent", args=[project.pk])).text
    revise = reverse("project-code-revise", args=[project.pk, check.pk])
    assert revise in recent
    mine = api(ann).get(reverse("api-my-annotations", args=[project.pk])).json()
    assert check.pk in [row["assignment"] for row in mine["results"]]
    assert client.get(revise).status_code == 200
    revised = client.post(
        revise, {"assignment": check.pk, "topic": "arms", "stance": "neutral"}
    )
    assert revised.status_code == 303
    api_revision = api(ann).post(
        reverse("api-submit", args=[check.pk]),
        {"labels": {"topic": "other", "stance": "neutral"}},
        format="json",
    )
    assert api_revision.status_code == 200
    # The whole document of its span reads as for any span the coder coded.
    document = reverse(
        "project-document", args=[project.pk, check.span.document_id]
    )
    assert client.get(f"{document}?span={check.span_id}").status_code == 200


def count_statements(run) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


@pytest.mark.parametrize("twin", [False, True], ids=["as-configured", "portable"])
def test_a_check_claim_runs_as_many_statements_as_a_real_one(monkeypatch, twin):
    """The timing tell-tale: the same statements, counted (no padding, no sleep).
    PostgreSQL runs both as lock, live-and-place and TAKE_IN_ONE; the portable
    twin (and SQLite) as lock, live-and-place, pick, COUNT_TAKEN, INSERT_CLAIM
    (a real claim whose first candidate kind has a span)."""
    project, _ = make_checks_project(
        checks=3, coders=("starter", "real", "checked"), coders_per_span=2
    )
    users = {name: User.objects.get(username=name) for name in project.memberships
             .values_list("user__username", flat=True)}  # fmt: skip
    due(monkeypatch, False)
    claim_next_span(project=project, coder=users["starter"])  # a started span
    with portable() if twin else _nothing():
        real = count_statements(
            lambda: claim_next_span(project=project, coder=users["real"])
        )
        due(monkeypatch, True)
        check = count_statements(
            lambda: claim_next_span(project=project, coder=users["checked"])
        )
    assert Assignment.objects.get(coder=users["checked"]).project_id == pool_id(
        project
    )
    assert Assignment.objects.get(coder=users["real"]).project_id == project.pk
    assert check == real


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
