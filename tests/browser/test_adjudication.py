"""A reviewer settles three disagreements of the simulated demo project by keyboard."""

import os

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from annotator.demo import load_simulated_project
from annotator.gold import adjudication_queue
from annotator.models import GoldLabel, GoldLabelRevision
from tests.browser.conftest import held_id, log_in, wait_for_next_card

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")

# Keys per span (default codebook: topics 1-5 and 0, stance a/s/d) and the note
# typed after "n" (empty: none); Enter decides.
PLAN = [
    ("1 s", "", "arms_control", "neutral"),
    ("2 a", "", "syria", "hostile"),
    ("4 d", "sanctions dominate", "sanctions", "cooperative"),
]


@pytest.fixture
def simulated():
    return load_simulated_project()


def test_reviewer_settles_three_disagreements_with_the_keyboard(page, simulated):
    reviewer = User.objects.get(username="reviewer")
    waiting = adjudication_queue(simulated).count()
    assert waiting >= 3
    log_in(page, "reviewer", "reviewer-demo-pass")
    page.goto(reverse("project-adjudicate", args=[simulated.pk]))
    page.locator("#target-span").wait_for()
    assert page.locator("table.coders tbody tr").count() >= 2
    assert "sim-" in page.locator("table.coders").inner_text()  # names, for reviewers
    page.screenshot(path=f"{SCREENSHOTS}/gold_adjudicate.png", full_page=True)

    loads = []
    page.on("load", lambda: loads.append(page.url))
    settled = []
    for keys, note, topic, stance in PLAN:
        span = held_id(page, "span")
        settled.append((int(span), note, topic, stance))
        for key in keys.split():
            page.keyboard.press(key)
        if note:
            page.keyboard.press("n")  # opens the note box and focuses it
            page.keyboard.type(note)
        page.keyboard.press("Enter")
        wait_for_next_card(page, span, "span")
        page.get_by_role("status").filter(has_text="Decided.").wait_for()
    assert loads == [], "decisions must swap the card in place, not load a page"
    remaining = page.locator(".waiting-count").inner_text()
    assert int(remaining) == waiting - 3

    for span_id, note, topic, stance in settled:
        labels = {
            g.dimension.key: g
            for g in GoldLabel.objects.filter(
                project=simulated, span_id=span_id
            ).select_related("dimension", "category")
        }
        assert labels["topic"].method == "adjudicated"
        assert labels["topic"].decided_by == reviewer
        assert labels["topic"].category.key == topic
        assert labels["topic"].note == note
        assert labels["stance"].category.key == stance
    assert GoldLabelRevision.objects.filter(changed_by=reviewer).count() >= 3

    # Reopen the first decision from the notice's link, with its history shown.
    first = settled[0][0]
    page.goto(reverse("project-adjudicate-span", args=[simulated.pk, first]))
    page.locator(".badge", has_text="reopened").wait_for()
    assert page.locator("input[name=topic][value=arms_control]").is_checked()
    assert "History" in page.locator("#span-card").inner_text()
