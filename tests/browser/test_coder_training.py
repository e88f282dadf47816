"""Chromium: a coder practises, fails then passes the test, codes and meets checks;
a reviewer sees the results and an alert for a drifting coder (issue 16)."""

import random

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from annotator.models import Assignment, Membership, WorkItem
from annotator.services import claim_next_span, queue_checks, submit_annotation
from annotator.training.pool import pool_id
from tests.browser.conftest import held_id, log_in, wait_for_next_card
from tests.factories import (
    PASSWORD,
    answer_checks,
    make_project,
    make_reference_items,
    member,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRACTICE = {"topic": ["trade"], "stance": ["hostile"], "tags": []}
# Varied on every dimension, so α with the reference is defined.
TEST = [
    {"topic": ["arms"], "stance": ["hostile"], "tags": ["quote"]},
    {"topic": ["trade"], "stance": ["neutral"], "tags": []},
    {"topic": ["other"], "stance": ["friendly"], "tags": ["number"]},
    {"topic": ["trade"], "stance": ["hostile"], "tags": ["quote", "number"]},
]
WRONG_TOPIC = {"arms": "trade", "trade": "other", "other": "arms"}
CHECK = {"topic": ["arms"], "stance": ["neutral"], "tags": []}


@pytest.fixture
def study():
    """A project with reference items: tina, a new coder;
    ann and bob, who have coded its first spans (check items must be fully coded);
    dora, whose hidden checks start right and turn wrong; a reviewer; a manager."""
    project = make_project(
        documents=4, spans_per_document=4, coders=("tina", "ann", "bob", "dora")
    )
    member(project, "rev", "reviewer")
    member(project, "mara", "manager")
    coders = {m.user.username: m.user for m in project.memberships.all()}
    for _ in range(6):
        for name in ("ann", "bob"):
            assignment = claim_next_span(project=project, coder=coders[name])
            submit_annotation(
                coder=coders[name],
                assignment=assignment,
                labels={"topic": "arms", "stance": "neutral"},
            )
    full = list(
        WorkItem.objects.filter(project=project, taken__gte=F("target"))
        .order_by("pk")
        .values_list("span_id", flat=True)
    )
    from corpus.models import Span

    make_reference_items(
        project, len(full), "check", codes=CHECK, spans=Span.objects.filter(pk__in=full)
    )
    make_reference_items(project, 2, "practice", codes=PRACTICE)
    tests = {}
    for codes in TEST:
        (item,) = make_reference_items(project, 1, "test", codes=codes)
        tests[item.span.text] = codes
    answer_checks(project, coders["dora"], correct=[True] * 3 + [False] * 5)
    # Ann and bob are certified by hand, as a manager would, so the gate lets them on.
    Membership.objects.filter(
        project=project, user__username__in=["ann", "bob"]
    ).update(certified_at=timezone.now())
    return project, tests


def choose(page, codes: dict) -> None:
    """Tick the codes on the card, then submit."""
    for dimension, keys in codes.items():
        for key in keys:
            page.locator(
                f"#code-form fieldset[data-dimension={dimension}] "
                f"label.choice:has(input[value={key}])"
            ).click()
    page.locator("#code-form button[type=submit]").click()


def take_test(page, project, tests: dict, *, right: bool) -> None:
    page.goto(reverse("project-test", args=[project.pk]))
    page.get_by_role("button", name="Start the certification test").click()
    for n in range(len(tests)):
        codes = dict(tests[page.locator("#target-span").inner_text().strip()])
        if not right:
            codes["topic"] = [WRONG_TOPIC[codes["topic"][0]]]
        before = held_id(page, "answer")
        choose(page, codes)
        if n < len(tests) - 1:
            wait_for_next_card(page, before, "answer")
    page.wait_for_url("**/training/attempts/*/")


def test_a_coder_trains_is_certified_codes_and_a_reviewer_sees_the_alert(
    page, study, monkeypatch
):
    project, tests = study
    monkeypatch.setattr(queue_checks, "RANDOM", random.Random(20))

    # The manager requires certification and turns hidden checks on (1 in 2).
    log_in(page, "mara", PASSWORD)
    page.goto(reverse("project-training-settings", args=[project.pk]))
    page.get_by_label("Certification gate").select_option("require")
    page.get_by_label("Hidden checks: about 1 in how many claims").fill("2")
    page.get_by_role("button", name="Save").click()
    history = page.get_by_role("region", name="Training settings history")
    history.get_by_text(
        "gate off → require; hidden checks off → about 1 in 2"
    ).wait_for()
    page.context.clear_cookies()

    log_in(page, "tina", PASSWORD)

    # The gate: no span before the test is passed, a way to training instead.
    page.goto(reverse("project-code", args=[project.pk]))
    page.get_by_text("Certification needed").wait_for()
    assert page.locator("#code-form input[name=assignment]").count() == 0
    page.get_by_role("link", name="Go to the Training page").click()
    page.get_by_role("link", name="Practise").click()

    # Practice: feedback after each answer, the reference and why.
    page.get_by_role("button", name="Start a practice round").click()
    choose(page, {"topic": ["arms"], "stance": ["hostile"]})
    feedback = page.locator("section.feedback")
    feedback.wait_for()
    assert "did not match" in feedback.inner_text()  # topic: arms, not trade
    assert "Reference: Trade" in feedback.inner_text()
    assert "Why:" in feedback.inner_text()
    feedback.get_by_role("button", name="Next item").click()
    feedback.wait_for(state="detached")
    choose(page, PRACTICE)
    page.get_by_text("Round finished").wait_for()
    assert "did not match" not in page.locator("section.feedback").inner_text()

    # The test: blind; failed, then passed.
    take_test(page, project, tests, right=False)
    assert "not passed" in page.locator("dl.meta").inner_text()
    page.goto(reverse("project-code", args=[project.pk]))
    page.get_by_text("Certification needed").wait_for()
    take_test(page, project, tests, right=True)
    assert "passed: certified" in page.locator("dl.meta").inner_text()

    # Admitted to the queue; hidden checks come among the spans, looking alike.
    page.goto(reverse("project-code", args=[project.pk]))
    held = []
    for _ in range(8):
        if page.locator("#code-form input[name=assignment]").count() == 0:
            break
        before = held_id(page)
        held.append(int(before))
        for key in ("1", "s"):
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        wait_for_next_card(page, before)
    projects = list(
        Assignment.objects.filter(pk__in=held).values_list("project_id", flat=True)
    )
    pool = pool_id(project)
    assert projects.count(pool) >= 1, "no hidden check was served"
    assert projects.count(project.pk) >= 1, "no real span was served"

    # The reviewer: the alert on the project page, the results on the coders page.
    page.context.clear_cookies()
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-detail", args=[project.pk]))
    alerts = page.locator("section.check-alerts")
    assert "dora" in alerts.inner_text() and "tina" not in alerts.inner_text()
    alerts.get_by_role("link", name="All coders").click()
    table = page.locator("#coder-table table")
    tina = table.locator("tr", has_text="tina")
    assert "passed" in tina.inner_text()
    assert "1 round" in tina.inner_text()  # practice
    assert "below 80%" not in tina.inner_text()
    dora = table.locator("tr", has_text="dora")
    assert "below 80%" in dora.inner_text()
    assert dora.locator("td.num").inner_text().strip() == "8"
    dora.get_by_role("link", name="dora").click()
    page.wait_for_url(
        f"**/coders/{Membership.objects.get(user__username='dora').user_id}/"
    )
    assert page.locator("h1").count() == 1
