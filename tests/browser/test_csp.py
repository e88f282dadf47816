"""Chromium under the Content-Security-Policy: no page has anything the policy blocks,
and the scales that replaced style attributes still draw the bars and heatmaps."""

import pytest
from django.urls import reverse

from annotator.demo import managers_group
from annotator.services import set_membership
from annotator.services.jobs import request_gold_refresh
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_violations(page) -> list[str]:
    """Chromium reports a CSP refusal on the console and as a DOM event."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(f"{page.url}: {message.text[:60]}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return seen


def watch_failed_requests(page) -> list[str]:
    """Every request of the page that failed (a favicon 404 included)."""
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return failed


def test_pages_run_under_the_policy_without_a_violation(page, coded_project):
    boss = UserFactory(username="boss", is_staff=True)
    boss.groups.add(managers_group())
    set_membership(project=coded_project, user=boss, role="manager")
    refresh = request_gold_refresh(coded_project, by=boss)
    violations = watch_violations(page)
    failed = watch_failed_requests(page)
    log_in(page, "boss", PASSWORD)
    for name, args in [
        ("home", []),
        ("project-detail", [coded_project.pk]),
        ("project-agreement", [coded_project.pk]),
        ("project-members", [coded_project.pk]),
        ("project-invitations", [coded_project.pk]),
        ("password-change", []),
        ("project-design", [coded_project.pk]),
        ("project-adjudicate", [coded_project.pk]),
        ("project-jobs", [coded_project.pk]),
        ("job-detail", [refresh.pk]),
        ("corpus-list", []),
        ("corpus-import", []),
        ("codebook-list", []),
        ("codebook-detail", [coded_project.codebook_id]),
        ("codebook-edit", [coded_project.codebook_id]),
        ("codebook-upload", []),
        ("api-token", []),
        ("api-docs", []),
    ]:
        response = page.goto(reverse(name, args=args))
        assert response.status == 200, name
        assert "Content-Security-Policy" in {key.title() for key in response.headers}
        page.wait_for_load_state("load")
    # The Swagger UI ran its set-up script (loaded from a URL, not inline).
    page.locator(".swagger-ui").first.wait_for()
    assert violations == []
    assert failed == []


def test_the_coding_screen_runs_under_the_policy(page):
    fresh = make_project(documents=1, spans_per_document=3, coders=("newcoder",))
    violations = watch_violations(page)
    failed = watch_failed_requests(page)
    log_in(page, "newcoder", PASSWORD)
    page.goto(reverse("project-code", args=[fresh.pk]))
    page.locator(".code-form").first.wait_for()
    assert violations == []
    assert failed == []


def test_scales_draw_bars_and_heatmaps_from_classes(page, coded_project):
    set_membership(
        project=coded_project, user=UserFactory(username="rev"), role="reviewer"
    )
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-detail", args=[coded_project.pk]))
    done = page.locator(".seg.done").first
    track = done.locator("xpath=..")
    share = done.evaluate("e => e.getBoundingClientRect().width") / track.evaluate(
        "e => e.getBoundingClientRect().width"
    )
    assert share > 0.5  # everything is coded: the bar fills (most of) its track
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    cell = page.locator("#card-topic table.pairwise td[class^='heat-']").first
    colour = cell.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
