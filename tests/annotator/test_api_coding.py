import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.models import Annotation, AnnotationRevision, Assignment, Label
from annotator.services import (
    claim_next_span,
    create_project,
    set_membership,
    submit_annotation,
)
from tests.factories import (
    CorpusFactory,
    DocumentFactory,
    UserFactory,
    make_codebook,
    make_project,
)

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}


def api_for(user) -> APIClient:
    """A client that authenticates with the user's API token, as scripts do."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def project():
    return make_project(documents=2, spans_per_document=3, coders=["ann", "bob"])


@pytest.fixture
def ann(project):
    return project.memberships.get(user__username="ann").user


@pytest.fixture
def bob(project):
    return project.memberships.get(user__username="bob").user


def claim_url(project):
    return reverse("api-claim", args=[project.pk])


def submit_url(assignment_id):
    return reverse("api-submit", args=[assignment_id])


def skip_url(assignment_id):
    return reverse("api-skip", args=[assignment_id])


def claim(client, project) -> dict:
    response = client.post(claim_url(project))
    assert response.status_code == 200, response.content
    return response.json()


def test_anonymous_requests_get_401_with_a_token_challenge(project):
    client = APIClient()
    assignment = claim_next_span(
        project=project, coder=project.memberships.first().user
    )
    for method, url in [
        ("get", reverse("api-project-list")),
        ("post", claim_url(project)),
        ("post", submit_url(assignment.pk)),
        ("post", skip_url(assignment.pk)),
        ("get", reverse("api-my-annotations", args=[project.pk])),
    ]:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"


def test_claim_returns_the_span_with_its_document_and_context(project, ann):
    body = claim(api_for(ann), project)
    assignment = Assignment.objects.get(pk=body["assignment"])
    assert assignment.coder == ann and assignment.status == "claimed"
    assert assignment.shown_at is not None  # the clock starts when the span is served
    span = body["span"]
    document = project.corpus.documents.get(pk=span["document"]["id"])
    assert span["document"] == {
        "id": document.pk,
        "title": document.title,
        "source": document.source,
        "published": document.published,
    }
    assert span["id"] == assignment.span_id
    assert document.text[span["start"] : span["end"]] == span["text"]
    assert span["index"] == 0
    assert body["context"]["before"] == []
    assert [s["index"] for s in body["context"]["after"]] == [1, 2]
    assert body["context"]["after"][0]["text"] == "Doc 0 para 1."
    assert body["expires_at"].startswith(str(assignment.expires_at.date()))


def test_context_skips_excluded_spans_and_keeps_reading_order():
    corpus = CorpusFactory()
    document = DocumentFactory(
        corpus=corpus, text="\n\n".join(f"Para {i}." for i in range(6))
    )
    document.spans.filter(index=1).update(excluded=True)
    coder = UserFactory(username="cy")
    project = create_project(
        name="Context",
        corpus=corpus,
        codebook=make_codebook(),
        members={coder: "coder"},
        coders_per_span=1,  # one coder can meet k = 1 only
    )
    client = api_for(coder)
    for _ in range(3):  # code spans 0, 2, 3; span 4 comes next
        body = claim(client, project)
        client.post(submit_url(body["assignment"]), {"labels": LABELS}, format="json")
    body = claim(client, project)
    assert body["span"]["index"] == 4
    assert [s["index"] for s in body["context"]["before"]] == [2, 3]
    assert [s["text"] for s in body["context"]["after"]] == ["Para 5."]


def test_claim_twice_returns_the_same_live_claim(project, ann):
    client = api_for(ann)
    assert claim(client, project)["assignment"] == claim(client, project)["assignment"]


def test_claim_answers_204_when_nothing_is_left(ann):
    project = make_project(documents=1, spans_per_document=1, coders=["solo"])
    client = api_for(project.memberships.get().user)
    body = claim(client, project)
    response = client.post(
        submit_url(body["assignment"]), {"labels": LABELS}, format="json"
    )
    assert response.status_code == 201
    assert client.post(claim_url(project)).status_code == 204


def test_submit_saves_then_replays_then_revises(project, ann):
    client = api_for(ann)
    assignment_id = claim(client, project)["assignment"]
    payload = {
        "labels": {
            "topic": "trade",
            "stance": ["neutral"],
            "tags": ["quote", "number"],
        },
        "uncertain": True,
        "comment": "  close call ",
        "token": "t-1",
    }
    first = client.post(submit_url(assignment_id), payload, format="json")
    assert first.status_code == 201, first.content
    saved = first.json()
    assert saved["labels"] == {
        "stance": ["neutral"],
        "tags": ["number", "quote"],
        "topic": ["trade"],
    }
    assert saved["uncertain"] is True and saved["comment"] == "close call"
    assert saved["assignment"] == assignment_id and saved["codebook_version"] == 1
    assert Assignment.objects.get(pk=assignment_id).status == "completed"

    replay = client.post(submit_url(assignment_id), payload, format="json")
    assert replay.status_code == 200 and replay.json()["id"] == saved["id"]
    same_content = client.post(
        submit_url(assignment_id), {**payload, "token": "t-2"}, format="json"
    )
    assert same_content.status_code == 200
    assert not AnnotationRevision.objects.exists()

    revised = client.post(
        submit_url(assignment_id),
        {"labels": {"topic": "arms", "stance": "hostile"}, "token": "t-3"},
        format="json",
    )
    assert revised.status_code == 200
    assert revised.json()["labels"] == {"stance": ["hostile"], "topic": ["arms"]}
    revision = AnnotationRevision.objects.get()
    assert revision.changed_by == ann
    assert revision.old["labels"]["topic"] == ["trade"]
    assert Annotation.objects.count() == 1


def test_submit_reports_errors_per_dimension_and_saves_nothing(project, ann):
    client = api_for(ann)
    assignment_id = claim(client, project)["assignment"]
    response = client.post(
        submit_url(assignment_id),
        {"labels": {"topic": ["arms", "trade"], "colour": "red"}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["labels"]
    assert set(errors) == {"topic", "stance", "colour"}
    assert "choose one category, not 2" in errors["topic"][0]
    assert "required" in errors["stance"][0]
    assert "'colour' is not a dimension" in errors["colour"][0]
    assert not Annotation.objects.exists() and not Label.objects.exists()

    malformed = client.post(
        submit_url(assignment_id), {"labels": {"topic": 3}}, format="json"
    )
    assert malformed.status_code == 400
    assert "'topic'" in malformed.json()["labels"][0]
    missing = client.post(submit_url(assignment_id), {}, format="json")
    assert missing.status_code == 400 and "labels" in missing.json()


def test_submit_on_a_lapsed_claim_taken_by_others_is_a_conflict(ann):
    project = make_project(
        documents=1, spans_per_document=1, coders=["ann2", "bo", "cy"]
    )
    first, second, third = (
        project.memberships.get(user__username=name).user
        for name in ("ann2", "bo", "cy")
    )
    client = api_for(first)
    assignment_id = claim(client, project)["assignment"]
    later = timezone.now() + timedelta(minutes=project.lease_minutes + 1)
    for other in (second, third):  # the lapsed place goes to the others
        taken = claim_next_span(project=project, coder=other, now=later)
        submit_annotation(coder=other, assignment=taken, labels=LABELS, now=later)
    response = client.post(submit_url(assignment_id), {"labels": LABELS}, format="json")
    assert response.status_code == 409
    assert "lapsed" in response.json()["detail"]


def test_skip_gives_the_span_back_with_a_reason(project, ann):
    client = api_for(ann)
    assignment_id = claim(client, project)["assignment"]
    assert client.post(skip_url(assignment_id), {}, format="json").status_code == 400
    blank = client.post(skip_url(assignment_id), {"reason": "  "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    response = client.post(
        skip_url(assignment_id), {"reason": "Not English"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert response.json()["skip_reason"] == "Not English"
    again = client.post(skip_url(assignment_id), {"reason": "x"}, format="json")
    assert again.status_code == 409
    submit = client.post(submit_url(assignment_id), {"labels": LABELS}, format="json")
    assert submit.status_code == 409 and "skipped" in submit.json()["detail"]
    assert claim(client, project)["assignment"] != assignment_id


def unskip_url(assignment_id):
    return reverse("api-unskip", args=[assignment_id])


def test_unskip_gives_the_span_back_as_the_next_claim(project, ann, bob):
    client = api_for(ann)
    first = claim(client, project)["assignment"]
    client.post(skip_url(first), {"reason": "Not English"}, format="json")
    second = claim(client, project)["assignment"]
    response = client.post(unskip_url(first))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["assignment"] == first and body["expires_at"]
    assert body["span"]["text"] == Assignment.objects.get(pk=first).span.text
    assert set(body["context"]) == {"before", "after"}
    assert claim(client, project)["assignment"] == first
    # Not skipped any more: a second undo is refused as a conflict.
    again = client.post(unskip_url(first))
    assert again.status_code == 409 and "Only a skipped span" in again.json()["detail"]
    # Someone else's skip is not there for you (blind coding).
    assert api_for(bob).post(unskip_url(first)).status_code == 404
    assert Assignment.objects.get(pk=second).status == Assignment.Status.CLAIMED


def test_unskip_is_refused_once_others_filled_the_span():
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann", "bob"], coders_per_span=1
    )
    ann, bob = (project.memberships.get(user__username=n).user for n in ("ann", "bob"))
    client = api_for(ann)
    first = claim(client, project)["assignment"]
    client.post(skip_url(first), {"reason": "x"}, format="json")
    taken = claim(api_for(bob), project)["assignment"]
    assert Assignment.objects.get(pk=taken).span_id == (
        Assignment.objects.get(pk=first).span_id
    )
    response = client.post(unskip_url(first))
    assert response.status_code == 409
    assert "Other coders have taken this span" in response.json()["detail"]
    assert Assignment.objects.get(pk=first).status == Assignment.Status.SKIPPED


def test_coders_of_another_project_get_404(project, ann):
    other = make_project(documents=1, spans_per_document=2, coders=["zed"])
    zed = other.memberships.get().user
    foreign = claim_next_span(project=other, coder=zed)
    client = api_for(ann)
    assert client.post(claim_url(other)).status_code == 404
    assert client.get(reverse("api-my-annotations", args=[other.pk])).status_code == 404
    assert client.get(reverse("api-project-detail", args=[other.pk])).status_code == 404
    response = client.post(submit_url(foreign.pk), {"labels": LABELS}, format="json")
    assert response.status_code == 404
    assert client.post(skip_url(foreign.pk), {"reason": "x"}).status_code == 404
    assert not Annotation.objects.exists()


def test_coders_never_touch_another_coders_assignment(project, ann, bob):
    bobs = claim(api_for(bob), project)["assignment"]
    client = api_for(ann)
    response = client.post(submit_url(bobs), {"labels": LABELS}, format="json")
    assert response.status_code == 404
    assert client.post(skip_url(bobs), {"reason": "x"}).status_code == 404
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("role", ["reviewer", "manager"])
def test_reviewers_and_managers_may_not_claim_or_submit(project, ann, role):
    user = UserFactory(username=f"the-{role}")
    set_membership(project=project, user=user, role=role)
    assignment_id = claim(api_for(ann), project)["assignment"]
    client = api_for(user)
    response = client.post(claim_url(project))
    assert response.status_code == 403
    assert "coders" in response.json()["detail"]
    response = client.post(submit_url(assignment_id), {"labels": LABELS}, format="json")
    assert response.status_code == 403
    assert client.post(skip_url(assignment_id), {"reason": "x"}).status_code == 403
    assert client.post(unskip_url(assignment_id)).status_code == 403
    assert not Annotation.objects.exists()
    assert not Assignment.objects.filter(coder=user).exists()


def test_staff_who_are_not_coders_get_403_on_claim(project):
    staff = UserFactory(username="staff", is_staff=True)
    assert api_for(staff).post(claim_url(project)).status_code == 403


def code_spans(project, coder, n):
    for _ in range(n):
        assignment = claim_next_span(project=project, coder=coder)
        submit_annotation(
            coder=coder,
            assignment=assignment,
            labels={**LABELS, "tags": ["quote", "number"]},
        )


def test_my_annotations_lists_only_my_own_with_labels(project, ann, bob):
    code_spans(project, ann, 2)
    code_spans(project, bob, 3)
    response = api_for(ann).get(reverse("api-my-annotations", args=[project.pk]))
    assert response.status_code == 200
    rows = response.json()["results"]
    mine = Annotation.objects.by(ann).order_by("-id")
    assert [row["id"] for row in rows] == [a.pk for a in mine]
    assert rows[0]["labels"] == {
        "stance": ["neutral"],
        "tags": ["number", "quote"],
        "topic": ["arms"],
    }
    span = mine[0].assignment.span
    assert rows[0]["span"] == {
        "id": span.pk,
        "document": span.document_id,
        "index": span.index,
        "text": span.text,
    }


def test_reviewers_see_no_annotations_of_coders(project, ann):
    code_spans(project, ann, 2)
    reviewer = UserFactory(username="rev")
    set_membership(project=project, user=reviewer, role="reviewer")
    response = api_for(reviewer).get(reverse("api-my-annotations", args=[project.pk]))
    assert response.status_code == 200 and response.json()["results"] == []


def test_my_annotations_is_cursor_paginated(project, ann):
    code_spans(project, ann, 5)
    client = api_for(ann)
    url = reverse("api-my-annotations", args=[project.pk]) + "?page_size=2"
    seen = []
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == list(
        Annotation.objects.by(ann).order_by("-id").values_list("pk", flat=True)
    )


@pytest.mark.parametrize("n", [1, 6])
def test_my_annotations_query_count_does_not_grow(ann, n, django_assert_num_queries):
    project = make_project(documents=2, spans_per_document=3, coders=["many"])
    coder = project.memberships.get().user
    code_spans(project, coder, n)
    client = api_for(coder)
    # token + user, project, annotations (span and codebook joined), labels prefetch
    with django_assert_num_queries(4):
        response = client.get(reverse("api-my-annotations", args=[project.pk]))
    assert len(response.json()["results"]) == n


def test_project_list_shows_visible_projects_with_my_role(project, ann):
    make_project(documents=1, spans_per_document=1, coders=["zed"])
    reviewer = UserFactory(username="rev")
    set_membership(project=project, user=reviewer, role="reviewer")

    rows = api_for(ann).get(reverse("api-project-list")).json()
    assert [(row["id"], row["role"]) for row in rows] == [(project.pk, "coder")]
    assert rows[0]["codebook"]["family"] == "test-codebook"
    assert rows[0]["corpus"] == project.corpus.name
    rows = api_for(reviewer).get(reverse("api-project-list")).json()
    assert [row["role"] for row in rows] == ["reviewer"]

    staff = UserFactory(username="staff", is_staff=True)
    rows = api_for(staff).get(reverse("api-project-list")).json()
    assert len(rows) == 2 and {row["role"] for row in rows} == {None}
    detail = api_for(ann).get(reverse("api-project-detail", args=[project.pk]))
    assert detail.json()["role"] == "coder"


def test_project_list_costs_fixed_queries(ann, django_assert_num_queries):
    for _ in range(3):
        project = make_project(documents=1, spans_per_document=1)
        set_membership(project=project, user=ann, role="coder")
    client = api_for(ann)
    with django_assert_num_queries(2):  # token + user, projects with role
        assert len(client.get(reverse("api-project-list")).json()) == 4


def test_session_authentication_works_for_the_browser(client, project, ann):
    client.force_login(ann)
    response = client.post(claim_url(project), headers={"X-Requested-With": "x"})
    assert response.status_code == 200


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in [
        "/api/v1/projects/{project_id}/claim/",
        "/api/v1/assignments/{assignment_id}/submit/",
        "/api/v1/assignments/{assignment_id}/skip/",
        "/api/v1/projects/{project_id}/my-annotations/",
        "/api/v1/projects/",
    ]:
        assert path in text


def test_docs_page_is_served_without_a_cdn(client, ann):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert (
        "swagger-ui-dist" in response.text or "drf_spectacular_sidecar" in response.text
    )
    assert "cdn" not in response.text.lower() and "jsdelivr" not in response.text
    assert client.get(reverse("api-schema")).status_code == 200


def test_claim_and_submit_cost_few_fixed_queries(project, ann):
    """The coding hot path: what each request costs, pinned (never loosen)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_for(ann)
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as claim:
            response = client.post(claim_url(project))
        assignment = response.json()["assignment"]
        with CaptureQueriesContext(connection) as submit:
            response = client.post(
                submit_url(assignment), {"labels": LABELS}, format="json"
            )
        assert response.status_code == 201
        assert response.json()["labels"] == {"topic": ["arms"], "stance": ["neutral"]}
        counts.append((len(claim), len(submit)))
    # Claim: token + user, project + role, begin, coder lock + lapsed-claims probe,
    # live claim + place, the claim itself, commit, the span with its document and
    # context. The claim itself is one statement on PostgreSQL (every candidate
    # kind in order, the work item's count, the assignment); on SQLite one per
    # kind tried (2 on the first claim: started, fresh; 3 after a submit: started
    # in my document, started, fresh in my document) and two for the one that
    # yields (the work item's count, the assignment).
    # Submit: token + user, the assignment (access), begin, coder lock, assignment
    # lock with annotation, codebook and span, the codebook's dimensions and
    # categories (until it is in use: then they are cached), then on PostgreSQL one
    # statement for the project's change number, annotation, labels and status (four
    # on SQLite), commit; no read-back. Was 20 + 18, then 13-14 + 10.
    expected = {
        "postgresql": [(8, 8), (8, 8), (8, 7)],
        "sqlite": [(11, 11), (12, 11), (12, 10)],
    }
    assert counts == expected[connection.vendor]


def test_claim_and_submit_answer_in_their_serializers_shapes(project, ann):
    """The hot path writes its answers out by hand: they must stay exactly what
    ClaimSerializer and AnnotationSerializer (the schema) render."""
    from rest_framework.renderers import JSONRenderer

    from annotator.api.coding import annotations_with_labels
    from annotator.serializers import AnnotationSerializer, ClaimSerializer
    from corpus.models import Span

    def rendered(data):
        return json.loads(JSONRenderer().render(data))

    client = api_for(ann)
    first = claim(client, project)
    client.post(submit_url(first["assignment"]), {"labels": LABELS}, format="json")
    body = claim(client, project)  # the middle span: context on both sides
    assignment = Assignment.objects.get(pk=body["assignment"])
    span = Span.objects.select_related("document").get(pk=assignment.span_id)
    siblings = list(span.document.spans.order_by("index"))
    assignment.span = span
    assignment.context = {
        "before": [s for s in siblings if s.index < span.index],
        "after": [s for s in siblings if s.index > span.index],
    }
    assert body == rendered(ClaimSerializer(assignment).data)
    assert body["context"]["before"] and body["context"]["after"]

    response = client.post(
        submit_url(body["assignment"]),
        {"labels": LABELS, "comment": "fine", "uncertain": True, "token": "x"},
        format="json",
    )
    stored = annotations_with_labels().get(assignment_id=body["assignment"])
    assert response.json() == rendered(AnnotationSerializer(stored).data)
    replay = client.post(
        submit_url(body["assignment"]), {"labels": LABELS, "token": "x"}, format="json"
    )
    assert replay.status_code == 200
    assert replay.json() == rendered(AnnotationSerializer(stored).data)


def test_a_bad_or_inactive_token_gets_401(project, ann):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.post(claim_url(project))
    assert response.status_code == 401 and "Invalid token" in response.json()["detail"]
    client = api_for(ann)
    ann.is_active = False
    ann.save()
    response = client.post(claim_url(project))
    assert response.status_code == 401 and "inactive" in response.json()["detail"]
    assert not Assignment.objects.exists()
