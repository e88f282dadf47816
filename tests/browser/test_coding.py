"""A coder codes the demo project in Chromium with the keyboard only."""

import os

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from annotator.models import Annotation, AnnotationRevision, Assignment
from tests.browser.conftest import held_id, log_in, press_and_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")

# Keys pressed per span (default codebook: topics 1-5 and 0, stance a/s/d,
# u = uncertain) and what they must store.
PLAN = [
    ("1 d", {"topic": ["arms_control"], "stance": ["cooperative"]}, False),
    ("2 a", {"topic": ["syria"], "stance": ["hostile"]}, False),
    ("4 s u", {"topic": ["sanctions"], "stance": ["neutral"]}, True),
    ("0 s", {"topic": ["none"], "stance": ["neutral"]}, False),
    ("3 a 5", {"topic": ["visas"], "stance": ["hostile"]}, False),  # 5 replaces 3
]


def test_coder_codes_five_spans_with_the_keyboard_and_revises_one(page, demo):
    coder = User.objects.get(username="coder1")
    log_in(page, "coder1", "coder1-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    assert "Alt+S" in page.locator("footer.keys").inner_text()

    loads = []
    page.on("load", lambda: loads.append(page.url))
    coded = []
    for keys, labels, uncertain in PLAN:
        coded.append((int(held_id(page)), labels, uncertain))
        press_and_submit(page, keys)
        page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert loads == [], "submits must swap the card in place, not load a page"
    assert page.locator(".progress-text").inner_text().startswith("5 of ")

    # The codebook panel opens with "?" and shows definitions and examples.
    page.keyboard.press("?")
    panel = page.locator("#codebook-panel")
    assert panel.get_attribute("open") is not None
    assert "de-escalation" in panel.inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/h1_coding.png", full_page=True)
    page.keyboard.press("?")
    assert panel.get_attribute("open") is None

    for assignment_id, labels, uncertain in coded:
        annotation = Annotation.objects.get(
            assignment_id=assignment_id, assignment__coder=coder
        )
        assert annotation.label_keys() == labels
        assert annotation.uncertain is uncertain
        assert annotation.seconds is not None and annotation.seconds >= 0
    assert Annotation.objects.filter(assignment__coder=coder).count() == 5

    # Back to the second span from the recent list; revise it by keyboard.
    page.get_by_role("link", name="Recent annotations").click()
    page.screenshot(path=f"{SCREENSHOTS}/h1_recent.png", full_page=True)
    second = coded[1][0]
    revise_url = reverse("project-code-revise", args=[demo.pk, second])
    page.locator(f"a[href='{revise_url}']").click()
    page.locator(".badge", has_text="revising").wait_for()
    assert page.locator("input[name=topic][value=syria]").is_checked()
    page.keyboard.press("c")
    page.keyboard.type("Syria and sanctions both; sanctions dominate.")
    page.keyboard.press("Escape")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Your revision was saved.").wait_for()
    assert page.url.endswith(reverse("project-code", args=[demo.pk]))

    annotation = Annotation.objects.get(assignment_id=second)
    assert annotation.label_keys() == {"topic": ["sanctions"], "stance": ["hostile"]}
    assert annotation.comment == "Syria and sanctions both; sanctions dominate."
    revision = AnnotationRevision.objects.get(annotation=annotation)
    assert revision.old["labels"]["topic"] == ["syria"]
    assert revision.new["labels"]["topic"] == ["sanctions"]
    assert Annotation.objects.filter(assignment__coder=coder).count() == 5


def test_keyboard_skip_and_an_invalid_submit(page, demo):
    log_in(page, "coder2", "coder2-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    first = held_id(page)

    # Enter with no topic: the error appears in place, the stance stays chosen.
    page.keyboard.press("d")
    page.keyboard.press("Enter")
    page.locator(".field-error", has_text="Topic: choose a category").wait_for()
    assert page.locator("input[name=stance][value=cooperative]").is_checked()
    assert held_id(page) == first
    page.screenshot(path=f"{SCREENSHOTS}/h1_invalid.png", full_page=True)

    # Alt+S opens the reason box; typing there does not trigger shortcuts.
    page.keyboard.press("Alt+S")
    reason = page.locator("#skip-reason")
    assert reason.evaluate("el => el === document.activeElement")
    page.keyboard.type("Page chrome, not a statement 1 2 3")
    assert not page.locator("input[name=topic][value=arms_control]").is_checked()
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Skipped.").wait_for()
    skipped = Assignment.objects.get(pk=first)
    assert skipped.status == Assignment.Status.SKIPPED
    assert skipped.skip_reason == "Page chrome, not a statement 1 2 3"
    assert held_id(page) != first


def test_caps_lock_picks_categories_and_only_the_chord_skips_then_undo(page, demo):
    log_in(page, "coder3", "coder3-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    first = held_id(page)
    skip_box = page.locator("details.skip-box")

    # Caps Lock on: the stance's "s" arrives as "S" (and Shift+S is the same key).
    page.keyboard.press("S")
    assert page.locator("input[name=stance][value=neutral]").is_checked()
    assert skip_box.get_attribute("open") is None
    page.keyboard.press("A")
    assert page.locator("input[name=stance][value=hostile]").is_checked()
    page.keyboard.press("Shift+S")
    assert page.locator("input[name=stance][value=neutral]").is_checked()
    assert skip_box.get_attribute("open") is None

    # The chord opens the box, which says it is a skip; Esc cancels it.
    page.keyboard.press("Alt+S")
    assert skip_box.get_attribute("open") is not None
    assert "Skip this span — reason" in skip_box.inner_text()
    page.keyboard.type("half a reason")
    page.keyboard.press("Escape")
    assert skip_box.get_attribute("open") is None
    assert page.locator("#skip-reason").input_value() == ""
    assert Assignment.objects.get(pk=first).status == Assignment.Status.CLAIMED

    # A real skip, then "Undo skip" from the recent page brings the span back.
    page.keyboard.press("Alt+S")
    page.keyboard.type("Page chrome")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Skipped.").wait_for()
    assert held_id(page) != first
    page.get_by_role("link", name="Recent annotations").click()
    skips = page.locator("#recent-skips")
    assert "Page chrome" in skips.inner_text()
    skips.get_by_role("button", name="Undo skip").click()
    page.get_by_text("Skip undone").wait_for()
    assert held_id(page) == first
    assert Assignment.objects.get(pk=first).status == Assignment.Status.CLAIMED

    # Right after a skip, the notice offers the undo in place (htmx).
    page.keyboard.press("Alt+S")
    page.keyboard.type("Garbled")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Skipped.").wait_for()
    page.locator("#span-card").get_by_role("button", name="Undo skip").click()
    page.get_by_role("status").filter(has_text="Skip undone").wait_for()
    assert held_id(page) == first
