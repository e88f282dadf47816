"""Practice and the certification test (training.rounds, views/training.py):
feedback only after answering and only in practice, blind tests, every attempt
kept, certification set and cleared, by a test or by hand."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from annotator.models import Category, Membership, TrainingAttempt
from annotator.services import claim_next_span, submit_annotation
from annotator.training import rounds
from tests.factories import logged_in, make_project, make_reference_items, member

pytestmark = pytest.mark.django_db

BOB_COMMENT = "BOB-PRIVATE-COMMENT"
EXPLAINED = "the reference codes, explained"  # make_reference_items' explanation
# Four items with variation on every dimension, so that α is defined.
CODES = [
    {"topic": ["arms"], "stance": ["hostile"], "tags": ["quote"]},
    {"topic": ["trade"], "stance": ["neutral"], "tags": []},
    {"topic": ["arms"], "stance": ["friendly"], "tags": ["number"]},
    {"topic": ["trade"], "stance": ["neutral"], "tags": ["quote"]},
]
CARD_QUERIES, ATTEMPT_QUERIES = 6, 7
WRONG = {"topic": ["other"], "stance": ["neutral"], "tags": []}


@pytest.fixture(autouse=True)
def seeded(monkeypatch):
    monkeypatch.setattr(rounds, "RANDOM", random.Random(7))


@pytest.fixture
def project():
    """ann and bob code; bob has coded every span, with a private comment."""
    project = make_project(documents=3, spans_per_document=4, coders=("ann", "bob"))
    for key in ("arms", "trade", "other"):
        Category.objects.filter(dimension__codebook=project.codebook, key=key).update(
            definition=f"Definition of {key}."
        )
    bob = project.memberships.get(user__username="bob").user
    while (claim := claim_next_span(project=project, coder=bob)) is not None:
        submit_annotation(
            coder=bob, assignment=claim, labels={"topic": "other",
            "stance": "friendly"}, comment=BOB_COMMENT,
        )  # fmt: skip
    return project


def user(project, name):
    return project.memberships.get(user__username=name).user


def reference(project, use: str, codes=CODES):
    return [make_reference_items(project, 1, use, codes=c)[0] for c in codes]


def post_labels(labels: dict) -> dict:
    return {key: values for key, values in labels.items() if values}


def current(project, coder, kind):
    attempt = rounds.open_attempt(project, coder, kind)
    return rounds.next_item(rounds.served(attempt)) if attempt else None


def answer_all(client, project, coder, kind, answer=lambda codes: codes):
    url = reverse(f"project-{kind}", args=[project.pk])
    client.post(url, {"action": "start"})
    responses = []
    while (shown := current(project, coder, kind)) is not None:
        data = {"answer": shown.pk, **post_labels(answer(shown.item.codes))}
        responses.append(client.post(url, data))
    return responses


def assert_blind(text: str):
    assert BOB_COMMENT not in text and "bob" not in text


# --- practice -------------------------------------------------------------------------


def test_practice_shows_the_reference_only_after_answering(client, project):
    ann = user(project, "ann")
    reference(project, "practice", CODES[:2])
    client = logged_in(client, ann)
    url = reverse("project-practice", args=[project.pk])
    assert "Start a practice round" in client.get(url).text
    assert client.post(url, {"action": "start"}).status_code == 303
    page = client.get(url)
    shown = current(project, ann, "practice")
    assert shown.item.span.text in page.text and 'name="topic"' in page.text
    assert EXPLAINED not in page.text and "Reference:" not in page.text
    assert "Read the whole document" not in page.text  # no claim: no reader
    assert_blind(page.text)
    wrong_topic = "trade" if shown.item.codes["topic"] == ["arms"] else "arms"
    given = {**shown.item.codes, "topic": [wrong_topic]}
    feedback = client.post(url, {"answer": shown.pk, **post_labels(given)})
    text = feedback.text
    assert EXPLAINED in text and "did not match" in text and "Reference:" in text
    # The definitions of both the chosen and the reference category.
    assert "Definition of arms." in text and "Definition of trade." in text
    assert_blind(text)
    shown.refresh_from_db()
    assert shown.matched["topic"] is False and shown.matched["stance"] is True


def test_practice_as_a_page_and_as_an_htmx_partial(client, project):
    ann = user(project, "ann")
    reference(project, "practice", CODES[:2])
    client = logged_in(client, ann)
    url = reverse("project-practice", args=[project.pk])
    client.post(url, {"action": "start"})
    full = client.get(url)
    assert "<html" in full.text and "codebook-panel" in full.text
    part = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="span-card"')
    shown = current(project, ann, "practice")
    data = {"answer": shown.pk, **post_labels(shown.item.codes)}
    fed = client.post(url, data, headers={"HX-Request": "true"})
    assert fed.text.lstrip().startswith('<section id="span-card"')
    assert "matched" in fed.text and EXPLAINED in fed.text
    # Sent twice: nothing changes, the same feedback.
    again = client.post(url, data, headers={"HX-Request": "true"})
    assert EXPLAINED in again.text
    assert shown.attempt.answers.filter(answered_at__isnull=False).count() == 1


def test_an_invalid_answer_is_refused_beside_its_choices(client, project):
    ann = user(project, "ann")
    reference(project, "practice", CODES[:1])
    client = logged_in(client, ann)
    url = reverse("project-practice", args=[project.pk])
    client.post(url, {"action": "start"})
    shown = current(project, ann, "practice")
    page = client.post(url, {"answer": shown.pk, "stance": "neutral"})
    assert "Topic: choose a category (required)." in page.text
    assert EXPLAINED not in page.text
    shown.refresh_from_db()
    assert shown.answered_at is None


def test_practice_can_be_repeated_and_every_round_is_kept(client, project):
    ann = user(project, "ann")
    reference(project, "practice", CODES[:2])
    client = logged_in(client, ann)
    last = answer_all(client, project, ann, "practice")[-1]
    assert "Round finished" in last.text and "Start a new practice round" in last.text
    answer_all(client, project, ann, "practice")
    rounds_kept = TrainingAttempt.objects.filter(coder=ann, kind="practice")
    assert rounds_kept.count() == 2
    assert all(a.finished_at and a.passed is None for a in rounds_kept)
    attempt = rounds_kept.first()
    page = client.get(reverse("project-attempt", args=[project.pk, attempt.pk]))
    assert page.status_code == 200 and "Agreement with the reference" in page.text
    assert "(reference: " in page.text  # practice lists its items' references
    assert_blind(page.text)
    assert Membership.objects.get(user=ann, project=project).certified_at is None


def test_no_practice_items_says_so(client, project):
    client = logged_in(client, user(project, "ann"))
    url = reverse("project-practice", args=[project.pk])
    assert "no practice items" in client.get(url).text
    assert "no practice items" in client.post(url, {"action": "start"}).text
    assert not TrainingAttempt.objects.exists()
    test_url = reverse("project-test", args=[project.pk])
    assert "no certification test items" in client.get(test_url).text


# --- the certification test -----------------------------------------------------------


def test_the_test_gives_no_feedback_until_it_ends(client, project):
    ann = user(project, "ann")
    reference(project, "test")
    client = logged_in(client, ann)
    url = reverse("project-test", args=[project.pk])
    assert "Start the certification test" in client.get(url).text
    responses = answer_all(client, project, ann, "test")
    for response in responses[:-1]:
        assert response.status_code == 200
        text = response.text
        assert EXPLAINED not in text and "Reference" not in text
        assert "matched" not in text and "no feedback until" in text
    end = responses[-1]
    attempt = TrainingAttempt.objects.get(coder=ann, kind="test")
    assert end.status_code == 303
    assert end["Location"] == reverse("project-attempt", args=[project.pk, attempt.pk])
    result = client.get(end["Location"]).text
    assert "passed: certified" in result and "α" in result
    # Figures, not the reference of each item: a retake is still a test.
    assert EXPLAINED not in result and "(reference:" not in result
    assert_blind(result)


def test_the_tests_last_answer_redirects_htmx_too(client, project):
    ann = user(project, "ann")
    reference(project, "test", CODES[:2])
    client = logged_in(client, ann)
    url = reverse("project-test", args=[project.pk])
    client.post(url, {"action": "start"})
    first = current(project, ann, "test")
    part = client.post(
        url, {"answer": first.pk, **post_labels(first.item.codes)},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert part.text.lstrip().startswith('<section id="span-card"')
    assert EXPLAINED not in part.text
    second = current(project, ann, "test")
    end = client.post(
        url, {"answer": second.pk, **post_labels(second.item.codes)},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert end["HX-Redirect"].endswith(f"/training/attempts/{first.attempt_id}/")


def test_fail_then_pass_keeps_both_and_certifies(client, project):
    ann = user(project, "ann")
    reference(project, "test")
    client = logged_in(client, ann)
    answer_all(client, project, ann, "test", answer=lambda codes: WRONG)
    failed = TrainingAttempt.objects.get(coder=ann, kind="test")
    assert failed.passed is False and failed.finished_at
    assert not failed.results["topic"]["passed"] and failed.results["topic"]["reason"]
    membership = Membership.objects.get(user=ann, project=project)
    assert membership.certified_at is None
    page = client.get(reverse("project-attempt", args=[project.pk, failed.pk])).text
    assert "not passed" in page and "Arms → Other" in page  # a confusion
    answer_all(client, project, ann, "test")
    tests = TrainingAttempt.objects.filter(coder=ann, kind="test").order_by("pk")
    assert [a.passed for a in tests] == [False, True]
    passed = tests.last()
    assert {r["alpha"] for r in passed.results.values()} == {1.0}
    assert passed.thresholds["min_alpha"] == 0.8
    membership.refresh_from_db()
    assert membership.certified_at == passed.finished_at
    hub = client.get(reverse("project-training", args=[project.pk])).text
    assert "Certified" in hub and hub.count("/training/attempts/") == 2


def test_a_test_draws_its_size_unseen_items_first(client, project):
    ann = user(project, "ann")
    items = reference(project, "test")
    project.certification_items = 2
    project.save()
    first = rounds.start(project=project, coder=ann, kind="test")
    drawn = {a.item_id for a in rounds.served(first)}
    assert len(drawn) == 2
    for shown in rounds.served(first):
        rounds.answer(coder=ann, answer_id=shown.pk, kind="test", labels=WRONG)
    second = rounds.start(project=project, coder=ann, kind="test")
    assert {a.item_id for a in rounds.served(second)} == {i.pk for i in items} - drawn


def test_another_coder_cannot_answer_or_see_an_attempt(client, project):
    ann, bob = user(project, "ann"), user(project, "bob")
    reference(project, "practice", CODES[:1])
    attempt = rounds.start(project=project, coder=ann, kind="practice")
    shown = rounds.served(attempt)[0]
    bob_client = logged_in(client, bob)
    url = reverse("project-practice", args=[project.pk])
    refused = bob_client.post(url, {"answer": shown.pk, **post_labels(CODES[0])})
    assert "not one of your open practice items" in refused.text
    shown.refresh_from_db()
    assert shown.answered_at is None
    attempt_url = reverse("project-attempt", args=[project.pk, attempt.pk])
    assert bob_client.get(attempt_url).status_code == 404
    reviewer = member(project, "rita", "reviewer")
    assert logged_in(client, reviewer).get(attempt_url).status_code == 200


# --- certifying by hand, the project page's panel -------------------------------------


def test_a_manager_certifies_by_hand_and_withdraws(client, project):
    ann = user(project, "ann")
    manager = member(project, "maria", "manager")
    client = logged_in(client, manager)
    url = reverse("project-coder-certify", args=[project.pk, ann.pk])
    refused = client.post(url, {"decision": "certify", "note": "  "})
    assert refused.status_code == 400 and "This field is required" in refused.text
    membership = Membership.objects.get(user=ann, project=project)
    assert membership.certified_at is None and not TrainingAttempt.objects.exists()
    done = client.post(url, {"decision": "certify", "note": "Trained in person."})
    assert done.status_code == 303
    membership.refresh_from_db()
    decision = TrainingAttempt.objects.get(kind="manual")
    assert membership.certified_at == decision.finished_at
    assert (decision.passed, decision.note, decision.decided_by) == (
        True, "Trained in person.", manager,
    )  # fmt: skip
    client.post(url, {"decision": "withdraw", "note": "Drifted on stance."})
    membership.refresh_from_db()
    assert membership.certified_at is None
    kept = TrainingAttempt.objects.filter(kind="manual").order_by("pk")
    assert [a.passed for a in kept] == [True, False]
    # Only coders are certified.
    reviewer = member(project, "rita", "reviewer")
    other = reverse("project-coder-certify", args=[project.pk, reviewer.pk])
    assert client.post(other, {"decision": "certify", "note": "x"}).status_code == 404


def test_the_certify_form_renders_for_a_coder(project):
    from django.template.loader import render_to_string

    html = render_to_string(
        "annotator/_certify_form.html",
        {"project": project, "coder": user(project, "ann")},
    )
    assert 'name="note"' in html and 'value="withdraw"' in html


def test_the_project_page_shows_a_coder_their_training_only(client, project):
    ann = user(project, "ann")
    reference(project, "practice", CODES[:2])
    page = logged_in(client, ann).get(project.get_absolute_url()).text
    assert "Not certified yet" in page and "2 practice items" in page
    assert reverse("project-training", args=[project.pk]) in page
    rounds.certify(project=project, coder=ann, by=None, certified=True, note="ok")
    page = client.get(project.get_absolute_url()).text
    assert "Certified</span> since" in page
    plain = type(project).objects.get(pk=project.pk)  # no user_role loaded
    assert rounds.coder_panel(ann, plain).certified_at is not None
    manager = member(project, "maria", "manager")
    assert rounds.coder_panel(manager, plain) is None
    page = logged_in(client, manager).get(project.get_absolute_url()).text
    assert "Not certified yet" not in page and 'class="training-panel"' not in page


@pytest.mark.parametrize("n", [2, 4])
def test_the_card_and_an_attempt_cost_fixed_queries(
    client, project, n, django_assert_num_queries
):
    """The same number of queries whatever the number of items."""
    ann = user(project, "ann")
    reference(project, "practice", CODES[:n])
    client = logged_in(client, ann)
    answer_all(client, project, ann, "practice")
    attempt = TrainingAttempt.objects.get()
    url = reverse("project-practice", args=[project.pk])
    client.post(url, {"action": "start"})
    # session, user, project (+role), the open round, its items, the span in
    # context (the codebook from the cache)
    with django_assert_num_queries(CARD_QUERIES):
        card = client.get(url, headers={"HX-Request": "true"})
    assert card.text.lstrip().startswith('<section id="span-card"')
    # session, user, project (+role), the attempt, its items, the menu's two
    # permission lookups
    with django_assert_num_queries(ATTEMPT_QUERIES):
        client.get(reverse("project-attempt", args=[project.pk, attempt.pk]))
