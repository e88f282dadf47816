"""A manager invites someone in place (htmx); the invitee opens the emailed link,
makes an account with the keyboard and lands in the project."""

import re

import pytest
from django.core import mail

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invite_then_accept_with_a_new_account(page, chromium, live_server, manager):
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann"], manager=manager
    )
    log_in(page, "manager", PASSWORD)
    page.goto(f"/projects/{project.pk}/members/")
    loads = []
    page.on("load", lambda _: loads.append(1))
    section = page.locator("#invitations")
    section.get_by_label("Email address").fill("Nora.Reviewer@example.org")
    section.get_by_label("Role").select_option("reviewer")
    section.get_by_role("button", name="Invite").click()
    page.get_by_role("status").filter(has_text="a link was emailed").wait_for()
    assert page.locator("#invitations tr", has_text="nora.reviewer@").count() == 1
    assert loads == []  # htmx swapped the section; the page never reloaded

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)[0]
    invitee = chromium.new_context(base_url=live_server.url).new_page()
    invitee.goto(link)
    assert invitee.get_by_label("Username").input_value() == "nora.reviewer"
    invitee.get_by_label("Password", exact=True).fill("plum-orchard-lantern-42")
    invitee.get_by_label("Password again").fill("plum-orchard-lantern-42")
    invitee.keyboard.press("Enter")
    invitee.wait_for_url(f"**/projects/{project.pk}/")
    assert invitee.get_by_text(f"Welcome to {project.name}").is_visible()
    invitee.context.close()
