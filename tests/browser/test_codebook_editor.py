"""The codebook editor in Chromium: two dimensions written, previewed, saved."""

import pytest

from annotator.codebooks import codebook_to_data
from annotator.models import Codebook
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_writes_a_two_dimension_codebook_and_sees_the_preview(page, manager):
    log_in(page, "manager", PASSWORD)
    page.get_by_role("link", name="Codebooks").first.click()
    page.get_by_role("link", name="New codebook").click()
    page.wait_for_url("**/codebooks/new/")
    loads = []
    page.on("load", lambda _: loads.append(1))
    preview = page.locator("#codebook-preview")

    page.get_by_label("Name", exact=True).fill("Frames")
    page.locator("input[name=d0-key]").fill("frame")
    page.locator("input[name=d0-label]").fill("Main frame")
    page.locator("input[name=d0-c0-key]").fill("economy")
    page.locator("input[name=d0-c0-label]").fill("Economy")
    page.locator("input[name=d0-c0-shortcut]").fill("e")
    page.locator("input[name=d0-c1-key]").fill("security")
    page.locator("input[name=d0-c1-label]").fill("Security")
    page.locator("input[name=d0-c1-shortcut]").press_sequentially("x")
    preview.locator("legend", has_text="Main frame").wait_for()
    economy = preview.locator("label.choice", has_text="Economy")
    economy.locator("kbd", has_text="e").wait_for()

    page.get_by_role("button", name="Add a dimension").click()
    page.locator("input[name=d1-key]").wait_for()
    page.locator("input[name=d1-key]").fill("tone")
    page.locator("input[name=d1-label]").fill("Tone")
    page.locator("select[name=d1-level]").select_option("ordinal")
    categories = (("negative", "-1", "1"), ("positive", "1", "e"))
    for c, (key, value, shortcut) in enumerate(categories):
        page.locator(f"input[name=d1-c{c}-key]").fill(key)
        page.locator(f"input[name=d1-c{c}-value]").fill(value)
        page.locator(f"input[name=d1-c{c}-shortcut]").fill(shortcut)
    page.locator("input[name=d1-c1-shortcut]").blur()
    # The clash is said in the preview before saving; the manager fixes it.
    preview.get_by_text(
        "shortcut 'e' is already used by dimension 'frame', category 'economy'"
    ).wait_for()
    page.locator("input[name=d1-c1-shortcut]").fill("2")
    page.locator("input[name=d1-c1-shortcut]").blur()
    preview.locator("legend", has_text="Tone").wait_for()
    preview.locator("label.choice", has_text="positive").locator(
        "kbd", has_text="2"
    ).wait_for()
    assert preview.get_by_text("Saving would be refused").count() == 0
    assert loads == []  # htmx redrew the editor and the preview; no page load

    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Version 1 of Frames saved: a new codebook.").wait_for()
    data = codebook_to_data(Codebook.objects.get(family="frames"))
    assert [d["key"] for d in data["dimensions"]] == ["frame", "tone"]
    assert [c["value"] for c in data["dimensions"][1]["categories"]] == [-1.0, 1.0]
