import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_adds_and_removes_a_member_in_place(page, manager):
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann"], manager=manager
    )
    UserFactory(username="newcomer")
    log_in(page, "manager", PASSWORD)
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(f"**/projects/{project.pk}/members/")
    loads = []
    page.on("load", lambda _: loads.append(1))

    form = page.locator("form.add-member")
    form.locator("input[name=username]").fill("newcomer")
    form.locator("select[name=role]").select_option("reviewer")
    form.get_by_role("button", name="Add").click()
    page.get_by_role("status").filter(has_text="newcomer is now a reviewer.").wait_for()
    assert project.role_of(UserFactory(username="newcomer")) == "reviewer"

    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tr", has_text="ann")
    row.get_by_role("button", name="Remove").click()
    page.get_by_role("status").filter(has_text="Removed ann.").wait_for()
    assert page.locator("#member-table tr", has_text="ann").count() == 0
    assert loads == []  # htmx swapped the table; the page never reloaded


def test_progress_page_draws_a_bar_per_coder(page, manager):
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann", "bob"], manager=manager
    )
    log_in(page, "manager", PASSWORD)
    page.get_by_role("link", name=project.name).click()
    assert page.locator("table.bars .track").count() == 2
    assert page.get_by_text("spans in the reliability sample").is_visible()
