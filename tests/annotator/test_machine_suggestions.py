"""Machine suggestions on the coding screen (issue 18): who sees one, and what the
annotation records of it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.models import Annotation, Assignment, MachineCoder, WorkItem
from annotator.services import queue_checks
from annotator.suggestions import Suggestion, kept, verified
from tests.annotator.suggestion_world import (
    HX,
    MACHINE,
    MARKER,
    as_c1,
    checked,
    code_url,
    current,
    machine_codes,
    post,
    signed,
    suggesting,
    user,
)
from tests.annotator.test_api_coding import api_for
from tests.factories import DueRandom, make_checks_project, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def outside():
    """One coder; no span in the reliability sample."""
    return suggesting(
        make_project(documents=2, spans_per_document=3, coders=["c1"], sample_share=0)
    )


@pytest.fixture
def c1(client, outside):
    return as_c1(client)


# --- who sees a suggestion ----------------------------------------------------------


def test_the_card_pre_selects_the_machine_codes_with_a_marker(c1, outside):
    machine_codes(outside)
    for headers in ({}, HX):  # the page and the htmx partial alike
        page = c1.get(code_url(outside), headers=headers)
        assert page.status_code == 200
        html = page.text
        assert f"{MARKER}: Trade, p = .87" in html
        assert f"{MARKER}: Quote, p = .45" in html
        assert 'aria-describedby="suggestion-topic"' in html
        assert checked(html, "topic") == ["trade"]
        assert checked(html, "stance") == ["neutral"]
        assert checked(html, "tags") == ["quote"]
        assert signed(html)


def test_no_suggestion_while_the_option_is_off(c1, outside):
    machine_codes(suggesting(outside, on=False))
    html = c1.get(code_url(outside)).text
    assert MARKER not in html and not signed(html)
    assert checked(html, "topic") == []


def test_no_suggestion_without_machine_codes_or_from_a_superseded_coder(c1, outside):
    html = c1.get(code_url(outside)).text
    assert MARKER not in html and not signed(html)
    machine_codes(outside).__class__.objects.update(state=MachineCoder.State.SUPERSEDED)
    assert MARKER not in c1.get(code_url(outside)).text


def test_never_in_the_reliability_sample(client):
    """Every span of a half-sampled project: a marker exactly outside the sample."""
    project = suggesting(
        make_project(documents=3, spans_per_document=4, coders=["c1"], sample_share=0.5)
    )
    machine_codes(project)  # the machine coded every span, the sample's too
    c1, coder = as_c1(client), user("c1")
    seen = {True: 0, False: 0}
    while True:
        html = c1.get(code_url(project), headers=HX).text
        if "All done" in html:
            break
        assignment = current(project, coder)
        in_sample = WorkItem.objects.get(pk=assignment.work_item_id).in_sample
        assert (MARKER in html) is not in_sample, html
        assert bool(signed(html)) is not in_sample
        seen[in_sample] += 1
        labels = {"topic": "arms", "stance": "hostile"}
        post(c1, project, assignment, labels, signed(html), headers=HX)
    assert seen[True] and seen[False]
    in_sample = Annotation.objects.filter(
        project=project, assignment__work_item__in_sample=True
    )
    assert not in_sample.suggested().exists()
    assert not in_sample.filter(suggestion__isnull=False).exists()
    assert Annotation.objects.suggested().count() == seen[False]


def test_never_on_a_hidden_check(client, monkeypatch):
    """A check is a claim in the reference pool: the machine's codes of its span
    (made in the study) are never offered, so it looks like a sample span."""
    project, items = make_checks_project(coders=("c1",), rate=2, sample_share=0)
    suggesting(project)
    machine_codes(project)
    monkeypatch.setattr(queue_checks, "RANDOM", DueRandom(due=True))
    html = as_c1(client).get(code_url(project)).text
    assignment = Assignment.objects.get(coder=user("c1"), status="claimed")
    assert assignment.project_id == project.pool.pk  # a check was served
    assert assignment.span_id in {item.span_id for item in items}
    assert MARKER not in html and not signed(html)


def test_never_in_practice_or_the_certification_test(client):
    from tests.factories import make_reference_items

    project = suggesting(make_project(coders=["c1"], sample_share=0))
    practice = make_reference_items(project, 2, "practice")
    test_items = make_reference_items(project, 2, "test")
    machine_codes(project, spans=[i.span_id for i in practice + test_items])
    c1 = as_c1(client)
    for kind in ("practice", "test"):
        url = reverse(f"project-{kind}", args=[project.pk])
        c1.post(url, {"action": "start"})
        for headers in ({}, HX):
            html = c1.get(url, headers=headers).text
            assert "<fieldset" in html  # an item to answer is on screen
            assert MARKER not in html and 'name="suggestion"' not in html


def test_never_on_a_span_handed_back_to_code_again(c1, outside):
    """A recode shows the coder's own earlier codes, never the machine's, even
    where a machine code of the span is still stored."""
    machine_codes(outside)
    html = c1.get(code_url(outside)).text
    coded = current(outside, user("c1"))
    labels = {"topic": "arms", "stance": "hostile"}
    post(c1, outside, coded, labels, signed(html))  # without htmx: no next claim
    Assignment.objects.filter(pk=coded.pk).update(status=Assignment.Status.RECODE)
    html = c1.get(code_url(outside)).text
    assert current(outside, user("c1")).pk == coded.pk
    assert MARKER not in html and not signed(html)
    assert checked(html, "topic") == ["arms"]


def test_the_api_claim_offers_no_suggestion_and_its_submit_records_none(outside):
    machine_codes(outside)
    client = api_for(user("c1"))
    claim = client.post(reverse("api-claim", args=[outside.pk])).json()
    assert "suggestion" not in claim
    answer = client.post(
        reverse("api-submit", args=[claim["assignment"]]),
        {"labels": MACHINE},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    annotation = Annotation.objects.get()
    assert annotation.suggestion is None and annotation.suggestion_kept is None


# --- what the annotation records ---------------------------------------------------


@pytest.mark.parametrize(
    "labels, was_kept",
    [
        ({"topic": "trade", "stance": "neutral", "tags": ["quote"]}, True),
        ({"topic": "arms", "stance": "neutral", "tags": ["quote"]}, False),
        # A multi-choice dimension: one more tag is a change, so is one fewer.
        ({"topic": "trade", "stance": "neutral", "tags": ["quote", "number"]}, False),
        ({"topic": "trade", "stance": "neutral"}, False),
    ],
)
def test_the_annotation_records_the_suggestion_and_whether_it_was_kept(
    c1, outside, labels, was_kept
):
    machine = machine_codes(outside)
    html = c1.get(code_url(outside)).text
    assignment = current(outside, user("c1"))
    response = post(c1, outside, assignment, labels, signed(html), headers=HX)
    assert response.status_code == 200
    annotation = Annotation.objects.get(assignment=assignment)
    assert annotation.suggestion == {"machine_coder": machine.pk, "labels": MACHINE}
    assert annotation.suggestion_kept is was_kept


def test_the_submit_trusts_only_what_the_server_signed_for_this_span(c1, outside):
    machine_codes(outside)
    html = c1.get(code_url(outside)).text
    token = signed(html)
    assignment = current(outside, user("c1"))
    # Another span's signed suggestion, a forged one: recorded as none shown.
    other = Suggestion(1, {"topic": ["arms"]}, {}).sign(assignment.pk + 1)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert verified(other, assignment.pk) is None
    assert verified(forged, assignment.pk) is None
    assert verified(token, assignment.pk).labels == MACHINE
    post(c1, outside, assignment, {"topic": "trade", "stance": "neutral"}, forged)
    annotation = Annotation.objects.get(assignment=assignment)
    assert annotation.suggestion is None and annotation.suggestion_kept is None


def test_a_refused_submit_keeps_the_marker_and_the_coders_choices(c1, outside):
    machine_codes(outside)
    html = c1.get(code_url(outside)).text
    assignment = current(outside, user("c1"))
    # Stance is required: refused, shown again with what the coder chose.
    again = post(c1, outside, assignment, {"topic": "arms", "stance": ""}, signed(html))
    assert again.status_code == 200
    assert checked(again.text, "topic") == ["arms"] and MARKER in again.text
    post(c1, outside, assignment, {"topic": "arms", "stance": "neutral",
                                   "tags": "quote"}, signed(again.text))  # fmt: skip
    assert Annotation.objects.get(assignment=assignment).suggestion_kept is False


def test_a_revision_keeps_what_the_first_submit_recorded(c1, outside):
    machine_codes(outside)
    html = c1.get(code_url(outside)).text
    assignment = current(outside, user("c1"))
    labels = {"topic": "trade", "stance": "neutral", "tags": "quote"}
    post(c1, outside, assignment, labels, signed(html))
    revise = reverse("project-code-revise", args=[outside.pk, assignment.pk])
    page = c1.get(revise).text
    assert MARKER not in page and not signed(page)
    c1.post(revise, {"assignment": assignment.pk, "topic": "arms", "stance": "neutral"})
    annotation = Annotation.objects.get(assignment=assignment)
    assert annotation.revisions.count() == 1
    assert annotation.suggestion_kept is True


def test_kept_compares_every_suggested_dimension_as_a_set():
    shown = {"topic": ["trade"], "tags": ["number", "quote"]}
    assert kept(shown, {"topic": ["trade"], "tags": ["quote", "number"], "x": ["y"]})
    assert not kept(shown, {"topic": ["trade"], "tags": ["quote"]})
    assert not kept(shown, {"tags": ["quote", "number"]})


# --- cost --------------------------------------------------------------------------


def test_suggestions_cost_the_coding_screen_one_query(client):
    """Off: the option comes with the project's row (no query); on: one query
    for the machine's codes of the claimed span."""
    counts = {}
    for on in (False, True):
        project = suggesting(make_project(coders=["c1"], sample_share=0), on=on)
        machine_codes(project)
        c1 = as_c1(client)
        c1.get(code_url(project))  # claim and show once
        with CaptureQueriesContext(connection) as queries:
            c1.get(code_url(project), headers=HX)
        counts[on] = len(queries)
    assert counts[True] == counts[False] + 1


def test_a_suggested_submit_and_the_next_card_cost_two_queries_more(client):
    """The hot path (submit, then the next card): recording what was shown is
    one statement, the next card's suggestion one query. Counted on each
    project's third submit, once its codebook is in the process's cache."""
    counts = {}
    labels = {"topic": "trade", "stance": "neutral", "tags": "quote"}
    for on in (False, True):
        project = suggesting(make_project(coders=["c1"], sample_share=0), on=on)
        machine_codes(project)
        c1 = as_c1(client)
        html = c1.get(code_url(project)).text
        for _ in range(2):
            earlier = current(project, user("c1"))
            html = post(c1, project, earlier, labels, signed(html), headers=HX).text
        assignment = current(project, user("c1"))
        with CaptureQueriesContext(connection) as queries:
            post(c1, project, assignment, labels, signed(html), headers=HX)
        counts[on] = len(queries)
        recorded = Annotation.objects.get(assignment=assignment).suggestion_kept
        assert recorded is (True if on else None)
    assert counts[True] == counts[False] + 2
