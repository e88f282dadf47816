"""A coder's choices survive the errors of a submit: signed out, database down."""

import os
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import reverse

from annotator.models import Annotation
from tests.browser.conftest import held_id, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")


def choose_arms_control_and_cooperative(page) -> None:
    page.keyboard.press("1")
    page.keyboard.press("d")
    assert_choices_kept(page)


def assert_choices_kept(page) -> None:
    assert page.locator("input[name=topic][value=arms_control]").is_checked()
    assert page.locator("input[name=stance][value=cooperative]").is_checked()


def saved_labels(assignment_id: str) -> list[tuple[str, str]]:
    annotation = Annotation.objects.get(assignment_id=int(assignment_id))
    return sorted(annotation.labels.values_list("dimension__key", "category__key"))


def test_signed_out_coder_signs_in_inside_the_card_and_keeps_the_choices(page, demo):
    log_in(page, "coder1", "coder1-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    first = held_id(page)
    choose_arms_control_and_cooperative(page)

    page.context.clear_cookies(name="sessionid")  # signed out in another tab
    page.keyboard.press("Enter")
    card = page.locator("#span-card")
    card.get_by_text("You were signed out.").wait_for()
    assert page.locator("#span-card form[data-inline-login]").is_visible()
    assert page.locator("h1", has_text="Log in").count() == 0  # no page nested
    assert page.locator("#span-card #span-card").count() == 0
    assert_choices_kept(page)
    assert held_id(page) == first
    page.screenshot(path=f"{SCREENSHOTS}/coding_signed_out.png", full_page=True)

    # A wrong password says so and keeps the card as it is.
    page.fill("[data-inline-login] input[name=username]", "coder1")
    page.fill("[data-inline-login] input[name=password]", "not-the-password")
    page.press("[data-inline-login] input[name=password]", "Enter")
    card.get_by_text("do not match").wait_for()
    assert_choices_kept(page)

    page.fill("[data-inline-login] input[name=password]", "coder1-demo-pass")
    page.press("[data-inline-login] input[name=password]", "Enter")
    card.get_by_text("Signed in again as coder1.").wait_for()
    assert_choices_kept(page)

    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert held_id(page) != first
    assert saved_labels(first) == [("stance", "cooperative"), ("topic", "arms_control")]


def test_database_down_keeps_the_choices_and_enter_tries_again(page, demo):
    log_in(page, "coder2", "coder2-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    first = held_id(page)
    choose_arms_control_and_cooperative(page)

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    # The live server runs in this process: its next query finds no database. (Its
    # cursors, not ensure_connection: the server checks its open connection at the
    # start of each request, which an outage does not make fail.)
    with mock.patch.object(BaseDatabaseWrapper, "_cursor", refuse):
        page.keyboard.press("Enter")
        problem = page.locator("#span-card [data-problem]")
        problem.get_by_text(
            "Could not save — your choices are kept. Try again (press Enter)."
        ).wait_for()
    assert_choices_kept(page)
    assert held_id(page) == first
    page.screenshot(path=f"{SCREENSHOTS}/coding_database_down.png", full_page=True)
    coder = User.objects.get(username="coder2")
    assert not Annotation.objects.filter(assignment__coder=coder).exists()

    page.keyboard.press("Enter")  # the database is back
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert held_id(page) != first
    assert saved_labels(first) == [("stance", "cooperative"), ("topic", "arms_control")]


def test_a_session_changed_in_another_tab_is_retried_once_with_the_new_token(
    page, demo, live_server
):
    log_in(page, "coder3", "coder3-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    first = held_id(page)
    choose_arms_control_and_cooperative(page)

    # Another tab signed in again: the CSRF cookie changed, this page's token did not.
    page.context.add_cookies(
        [{"name": "csrftoken", "value": "A" * 32, "url": live_server.url}]
    )
    refusals = []
    page.on("response", lambda r: r.status == 403 and refusals.append(r.url))
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert len(refusals) == 1  # refused once, then sent again with the new token
    assert held_id(page) != first
    assert page.locator("#span-card #span-card").count() == 0  # swapped as htmx does
    assert saved_labels(first) == [("stance", "cooperative"), ("topic", "arms_control")]


def test_someone_else_signing_in_from_the_card_starts_afresh_as_themselves(page, demo):
    """A shared screen: coder2 signs in where coder1 was signed out. coder1's choices
    are not saved under coder2's name, and the header names coder2."""
    log_in(page, "coder1", "coder1-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    first = held_id(page)
    choose_arms_control_and_cooperative(page)
    page.context.clear_cookies(name="sessionid")
    page.keyboard.press("Enter")
    username = page.locator("[data-inline-login] input[name=username]")
    username.wait_for()
    assert username.input_value() == "coder1"  # filled in: usually the same person
    username.fill("coder2")
    page.fill("[data-inline-login] input[name=password]", "coder2-demo-pass")
    page.press("[data-inline-login] input[name=password]", "Enter")
    page.locator("header .who", has_text="coder2").wait_for()
    page.locator("#target-span").wait_for()
    assert not Annotation.objects.filter(assignment_id=int(first)).exists()
    assert page.locator("input[name=topic][value=arms_control]").is_checked() is False
