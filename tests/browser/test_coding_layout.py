"""The coding screen at the sizes coders use: what they act on stays in view; focus,
announcements, the shortcut switch and the page without JavaScript."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from annotator.models import CoderPreferences
from annotator.services import claim_next_span, skip_span
from annotator.spans import span_in_context
from corpus.models import Span
from tests.browser.conftest import held_id, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1366×900 laptop at 200% zoom lays out as 683×450 CSS pixels.
VIEWPORTS = {
    "1366x900": {"viewport": {"width": 1366, "height": 900}},
    "1280x720": {"viewport": {"width": 1280, "height": 720}},
    "200% zoom": {"viewport": {"width": 683, "height": 450}, "device_scale_factor": 2},
    "390x844": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2},
}


def open_context(chromium, live_server, **options):
    return chromium.new_context(base_url=live_server.url, **options)


def span_with_longest_neighbour(project) -> Span:
    """The seed span whose neighbour on the screen is the longest: the case that
    pushed the choices below the fold."""

    def longest_neighbour(span: Span) -> int:
        reading = span_in_context(span.pk)
        return max((len(n.text) for n in reading.before + reading.after), default=0)

    spans = Span.objects.filter(document__corpus=project.corpus, excluded=False)
    return max(spans, key=longest_neighbour)


def hold(project, username: str, span: Span) -> None:
    """Make `span` the coder's current span: skip the ones served before it."""
    coder = User.objects.get(username=username)
    while (assignment := claim_next_span(project=project, coder=coder)).span_id != (
        span.pk
    ):
        skip_span(coder=coder, assignment=assignment.pk, reason="not this one")


# For each element the selector matches: "" if its first box lies inside the viewport
# and nothing covers it (the sticky action bar over the text, say), else why not.
WHY_HIDDEN = """(selector) => [...document.querySelectorAll(selector)].map((el) => {
    const box = el.getClientRects()[0];
    if (!box) return "not rendered";
    if (box.top < 0 || box.left < 0 || box.bottom > innerHeight
        || box.right > innerWidth) {
        return `outside the viewport: ${JSON.stringify(box)}`;
    }
    const hit = document.elementFromPoint(
        box.left + Math.min(box.width / 2, 12), box.top + box.height / 2);
    return el.contains(hit) ? "" : `covered by ${hit && hit.outerHTML.slice(0, 80)}`;
})"""


def in_view(page, selector: str, what: str, at_least: int = 1) -> None:
    reasons = page.evaluate(WHY_HIDDEN, selector)
    assert len(reasons) >= at_least, f"{what}: {len(reasons)} found"
    hidden = [(i, why) for i, why in enumerate(reasons) if why]
    assert not hidden, f"{what} hidden: {hidden}"


def assert_all_in_view(page, *, error: bool) -> None:
    in_view(page, "#target-span > p:first-child > mark", "the span's start")
    # Every category of every dimension (6 topics, 3 stances), then Uncertain.
    in_view(page, "#code-form .choice > span", "choices", at_least=10)
    in_view(page, "#code-form button.submit", "Submit")
    if error:
        in_view(page, "#code-form .field-error", "the error")


@pytest.mark.parametrize("size", VIEWPORTS, ids=list(VIEWPORTS))
def test_span_choices_submit_and_error_stay_in_view(chromium, live_server, demo, size):
    hold(demo, "coder1", span_with_longest_neighbour(demo))
    context = open_context(chromium, live_server, **VIEWPORTS[size])
    page = context.new_page()
    log_in(page, "coder1", "coder1-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    page.locator("#target-span").wait_for()
    page.wait_for_load_state("load")
    assert_all_in_view(page, error=False)

    page.keyboard.press("d")  # a stance, no topic: the topic is required
    page.keyboard.press("Enter")
    page.locator(".field-error", has_text="Topic: choose a category").wait_for()
    page.wait_for_timeout(100)  # the swap's settle and scroll
    assert_all_in_view(page, error=True)
    context.close()


def test_focus_and_the_live_region_follow_each_new_span(chromium, live_server, demo):
    context = open_context(chromium, live_server)
    page = context.new_page()
    log_in(page, "coder2", "coder2-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    first = held_id(page)
    for key in ("1", "d", "Enter"):
        page.keyboard.press(key)
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    held = held_id(page)
    assert held != first
    assert page.evaluate("document.activeElement.id") == "target-span"
    words = page.locator("#target-span").inner_text().split()[:3]
    announce = page.locator("#coding-announce")
    page.wait_for_function(
        "() => document.getElementById('coding-announce').textContent !== ''"
    )
    assert re.fullmatch(r"Span 2 of \d+: .+", announce.inner_text())
    assert announce.inner_text().split(": ", 1)[1].split()[:3] == words
    context.close()


def test_single_key_shortcuts_turned_off_do_nothing(chromium, live_server, demo):
    context = open_context(chromium, live_server)
    page = context.new_page()
    log_in(page, "coder3", "coder3-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    switch = page.get_by_label("Single-key shortcuts")
    assert switch.is_checked()
    switch.uncheck()  # htmx saves it at once
    page.get_by_text("Saved: single-key shortcuts are off.").wait_for()
    coder = User.objects.get(username="coder3")
    assert CoderPreferences.objects.of(coder).letter_shortcuts is False

    page.locator("#target-span").focus()
    for key in ("1", "d", "u", "?"):
        page.keyboard.press(key)
    assert not page.locator("input[name=topic][value=arms_control]").is_checked()
    assert not page.locator("input[name=stance][value=cooperative]").is_checked()
    assert not page.locator("input[name=uncertain]").is_checked()
    assert page.locator("#codebook-panel").get_attribute("open") is None
    assert not page.locator("#code-form kbd.single-key").first.is_visible()
    assert page.locator("footer.keys").get_by_text("shortcuts are off").is_visible()

    # Enter still submits (an empty form: the error says so); the choice persists.
    page.keyboard.press("Enter")
    page.locator(".field-error", has_text="Topic: choose a category").wait_for()
    page.reload()
    page.locator("#target-span").focus()
    page.keyboard.press("1")
    assert not page.locator("input[name=topic][value=arms_control]").is_checked()
    context.close()


def test_without_javascript_no_key_legend_and_saved_keeps_reopen(
    chromium, live_server, demo
):
    context = open_context(chromium, live_server, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "coder1", "coder1-demo-pass")
    page.goto(reverse("project-code", args=[demo.pk]))
    assert page.locator("footer.keys").count() == 1
    assert not page.locator("footer.keys").is_visible()
    assert not page.locator("#code-form kbd").first.is_visible()
    held = held_id(page)
    page.locator("label.choice", has_text="Arms control").click()
    page.locator("label.choice", has_text="Cooperative").click()
    page.locator("#code-form button.submit").click()
    notice = page.locator(".status-line .notice", has_text="Saved.")
    notice.wait_for()
    revise = reverse("project-code-revise", args=[demo.pk, int(held)])
    assert notice.get_by_role("link", name="Reopen it").get_attribute("href") == revise
    context.close()
