"""Text no database can store (NUL, lone surrogates) and JSON nested past the parser's
limit: every place a person can post text answers with a message naming the field,
never a server error, and writes nothing.

PostgreSQL refuses NUL in text, so without the check these were 500s there (run the
file with DATABASE_URL=postgres://…); SQLite stored the NUL, so they fail there too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotator.gold import settle_span
from annotator.models import Annotation, Assignment, GoldLabel, Membership
from annotator.services import claim_next_span, skip_span, submit_annotation
from tests.annotator.test_api_coding import api_for
from tests.annotator.test_gold import rate, spans
from tests.factories import UserFactory, make_project, member

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
NUL = "not\x00English"


@pytest.fixture
def project():
    return make_project(documents=2, spans_per_document=3, coders=["ann", "bob"])


@pytest.fixture
def ann(project):
    return project.memberships.get(user__username="ann").user


def held(project, user) -> Assignment:
    return claim_next_span(project=project, coder=user)


# --- services: the one place the rule is applied ------------------------------------


def test_services_refuse_a_nul_naming_the_field(project, ann):
    from django.core.exceptions import ValidationError

    assignment = held(project, ann)
    with pytest.raises(ValidationError) as error:
        skip_span(coder=ann, assignment=assignment, reason=NUL)
    assert "reason" in error.value.message_dict
    assert "NUL" in error.value.message_dict["reason"][0]
    with pytest.raises(ValidationError) as error:
        submit_annotation(
            coder=ann,
            assignment=assignment,
            labels={"topic": "arms", "stance": "neutral"},
            comment="fine\x00",
        )
    assert "NUL" in error.value.message_dict["comment"][0]
    with pytest.raises(ValidationError) as error:
        submit_annotation(
            coder=ann,
            assignment=assignment,
            labels={"topic": "arms", "stance": "neutral"},
            comment="a lone \ud800 surrogate",
        )
    assert "surrogate" in error.value.message_dict["comment"][0]
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CLAIMED
    assert not Annotation.objects.exists()


# --- the coding screen ---------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HX], ids=["full-page", "htmx"])
def test_a_nul_in_a_skip_reason_is_refused_on_the_page(client, project, ann, headers):
    client.force_login(ann)
    client.get(reverse("project-code", args=[project.pk]))
    assignment = Assignment.objects.get(coder=ann, status="claimed")
    response = client.post(
        reverse("project-code-skip", args=[project.pk]),
        {"assignment": assignment.pk, "reason": NUL},
        headers=headers,
    )
    assert response.status_code == 200
    assert "Skip reason: contains a NUL character" in response.text
    assert ("<html" in response.text) is not bool(headers)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CLAIMED
    assert assignment.skip_reason == ""


@pytest.mark.parametrize("headers", [{}, HX], ids=["full-page", "htmx"])
def test_a_nul_in_a_comment_is_refused_on_the_page(client, project, ann, headers):
    client.force_login(ann)
    client.get(reverse("project-code", args=[project.pk]))
    assignment = Assignment.objects.get(coder=ann, status="claimed")
    response = client.post(
        reverse("project-code", args=[project.pk]),
        {
            "assignment": assignment.pk,
            "topic": "arms",
            "stance": "neutral",
            "comment": "see\x00this",
        },
        headers=headers,
    )
    assert response.status_code == 200
    assert "Comment: contains a NUL character" in response.text
    assert not Annotation.objects.exists()


# --- adjudication --------------------------------------------------------------------


@pytest.fixture
def disputed():
    project = make_project(documents=1, spans_per_document=2, coders_per_span=2)
    a, b = UserFactory(username="c1"), UserFactory(username="c2")
    first = spans(project)[0]
    rate(project, a, first, topic="arms")
    rate(project, b, first, topic="trade")
    return project, first


@pytest.mark.parametrize("headers", [{}, HX], ids=["full-page", "htmx"])
def test_a_nul_in_an_adjudication_note_is_refused(client, disputed, headers):
    project, span_id = disputed
    client.force_login(member(project, "boss", Membership.Role.REVIEWER))
    response = client.post(
        reverse("project-adjudicate", args=[project.pk]),
        {"span": span_id, "topic": "arms", "stance": "neutral", "note": NUL},
        headers=headers,
    )
    assert response.status_code == 200
    assert "Note: contains a NUL character" in response.text
    assert not GoldLabel.objects.filter(method="adjudicated").exists()


def test_settle_span_refuses_a_nul_in_the_note(disputed):
    from django.core.exceptions import ValidationError

    project, span_id = disputed
    boss = member(project, "boss", Membership.Role.REVIEWER)
    with pytest.raises(ValidationError) as error:
        settle_span(project, span_id, {"topic": ["arms"]}, reviewer=boss, note=NUL)
    assert "NUL" in error.value.message_dict["note"][0]


# --- the API -------------------------------------------------------------------------


def test_api_text_fields_with_a_nul_answer_400_naming_the_field(project, ann):
    client = api_for(ann)
    assignment = held(project, ann)
    skip = client.post(
        reverse("api-skip", args=[assignment.pk]), {"reason": NUL}, format="json"
    )
    assert skip.status_code == 400 and "reason" in skip.json()
    submit_url = reverse("api-submit", args=[assignment.pk])
    for body, field in [
        ({"labels": {"topic": "arms"}, "comment": NUL}, "comment"),
        ({"labels": {"topic": "arms"}, "token": NUL}, "token"),
        ({"labels": {"topic": "ar\x00ms", "stance": "neutral"}}, "labels"),
        ({"labels": {"to\x00pic": "arms", "stance": "neutral"}}, "labels"),
    ]:
        response = client.post(submit_url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), response.json()
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CLAIMED
    assert not Annotation.objects.exists()


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_json_nested_too_deep_answers_400_on_every_endpoint(project, ann, levels):
    """Every endpoint that reads a body; the claim reads none and ignores it."""
    client = api_for(ann)
    assignment = held(project, ann)
    urls = [
        reverse("api-submit", args=[assignment.pk]),
        reverse("api-skip", args=[assignment.pk]),
    ]
    body = '{"labels": ' + deep(levels) + "}"
    for url in urls:
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert "nested too deeply" in response.json()["detail"], response.json()
    claim = client.post(
        reverse("api-claim", args=[project.pk]), body, content_type="application/json"
    )
    assert claim.status_code == 200 and claim.json()["assignment"] == assignment.pk
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CLAIMED


def test_session_authenticated_api_also_refuses_deep_json(project, ann):
    client = APIClient()
    client.force_authenticate(ann)
    assignment = held(project, ann)
    response = client.post(
        reverse("api-skip", args=[assignment.pk]),
        deep(5_000),
        content_type="application/json",
    )
    assert response.status_code == 400


# --- lone surrogates: in label keys and values, and in bodies not sent as UTF-8 -----

# Raw JSON text: the escapes decode to lone surrogates, which no UTF-8 can carry.
SURROGATE_BODIES = [
    '{"labels": {"t\\udc00": "syria"}, "token": "t"}',
    '{"labels": {"topic": "\\udc00"}}',
    '{"labels": {"topic": ["arms", "\\ud800"], "stance": "neutral"}}',
    '{"labels": {"topic": "arms", "stance": "neutral"}, "comment": "\\udc00"}',
    '{"labels": {"topic": "arms", "stance": "neutral"}, "token": "\\udc00"}',
]


@pytest.mark.parametrize("body", SURROGATE_BODIES)
def test_api_submit_with_a_lone_surrogate_answers_400_naming_the_field(
    project, ann, body
):
    """Was a 500: the error message echoed the key, which JSON cannot encode."""
    client = api_for(ann)
    assignment = held(project, ann)
    response = client.post(
        reverse("api-submit", args=[assignment.pk]),
        body,
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    field = "comment" if '"comment": "\\u' in body else (
        "token" if '"token": "\\u' in body else "labels"
    )  # fmt: skip
    assert field in response.json(), response.json()
    assert "surrogate" in str(response.json()).lower()
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.CLAIMED
    assert not Annotation.objects.exists()


def test_label_messages_never_carry_unencodable_text(project):
    """Commands and tests call the validator directly: its words must encode."""
    from django.core.exceptions import ValidationError

    from annotator.services.labels import resolve_labels

    for labels in ({"t\udc00": "arms"}, {"topic": "\udc00"}, {"topic": "a\x00"}):
        with pytest.raises(ValidationError) as error:
            resolve_labels(project.codebook, labels)
        for field, messages in error.value.message_dict.items():
            (field + " ".join(messages)).encode("utf-8")


# Django decodes a form in the charset its Content-Type names: UTF-7 or
# unicode_escape turn plain ASCII into lone surrogates (and NULs) in request.POST.
@pytest.mark.parametrize(
    ("charset", "comment"),
    [("utf-7", "%2B2AA-"), ("unicode_escape", "%5Cudc00")],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["full-page", "htmx"])
def test_a_form_in_another_charset_is_refused_on_the_coding_page(
    client, project, ann, headers, charset, comment
):
    client.force_login(ann)
    client.get(reverse("project-code", args=[project.pk]))
    assignment = Assignment.objects.get(coder=ann, status="claimed")
    response = client.post(
        reverse("project-code", args=[project.pk]),
        f"assignment={assignment.pk}&topic=arms&stance=neutral&comment={comment}",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        headers=headers,
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Annotation.objects.exists()


def test_a_query_string_in_another_charset_is_refused(client, project, ann):
    client.force_login(ann)
    response = client.get(
        reverse("project-code", args=[project.pk]),
        {"x": "+2AA-"},
        CONTENT_TYPE="text/plain; charset=utf-7",
    )
    assert response.status_code == 400
    ok = client.get(
        reverse("project-code", args=[project.pk]),
        CONTENT_TYPE="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert ok.status_code == 200
