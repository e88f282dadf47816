"""Chromium: a reviewer reads the agreement dashboard; a coder is refused."""

import pytest
from django.urls import reverse

from annotator.services import set_membership
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_sees_cards_heatmaps_trend_and_switches_to_batches(
    page, coded_project
):
    set_membership(
        project=coded_project, user=UserFactory(username="rev"), role="reviewer"
    )
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    cards = page.locator("section.card")
    assert cards.count() == 3  # topic, stance, tags
    topic = page.locator("#card-topic")
    assert topic.locator(".reading").inner_text().startswith("α = ")
    assert "single-coded unit" in topic.locator(".counts").inner_text()
    assert topic.locator("table.pairwise tbody tr").count() == 3
    assert topic.locator("table.confusion tbody tr").count() == 3
    assert topic.locator("table.coders tbody tr").count() == 3
    assert topic.locator("svg.trend circle").count() >= 1
    # The stylesheet is served locally and applied (no CDN).
    assert topic.evaluate("e => getComputedStyle(e).borderLeftWidth") == "6px"

    loads = []
    page.on("load", lambda _: loads.append(1))
    stance = page.locator("#card-stance")
    stance.locator("select[name=over]").select_option("batch")
    stance.locator("input[name=batch_size]").fill("3")
    stance.get_by_role("button", name="Show").click()
    page.locator("#card-stance table.periods").get_by_text("units 1–3").wait_for()
    assert loads == []  # htmx swapped the one card
    assert (
        page.locator("#card-topic table.periods").get_by_text("units 1–3").count() == 0
    )
    assert page.locator("section.card").count() == 3


def test_coder_is_refused(page, coded_project):
    log_in(page, "c1", PASSWORD)
    response = page.goto(reverse("project-agreement", args=[coded_project.pk]))
    assert response.status == 403
    assert page.locator("section.card").count() == 0


@pytest.mark.parametrize("width", [1280, 1920, 800])
def test_no_table_runs_under_its_neighbour(page, coded_project, width):
    """The coefficients table (five columns) once ran under the per-category panel
    and the matrices stuck out of the card: every grid cell now keeps its content."""
    set_membership(
        project=coded_project, user=UserFactory(username="rev"), role="reviewer"
    )
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    overlaps = page.evaluate(
        """() => {
          const out = [];
          for (const grid of document.querySelectorAll('.grid2')) {
            const cells = [...grid.children].map(c => c.getBoundingClientRect());
            for (let i = 0; i < cells.length; i++)
              for (let j = i + 1; j < cells.length; j++) {
                const a = cells[i], b = cells[j];
                if (a.left < b.right - 1 && b.left < a.right - 1 &&
                    a.top < b.bottom - 1 && b.top < a.bottom - 1)
                  out.push('cells overlap');
              }
            for (const cell of grid.children)
              for (const table of cell.querySelectorAll('table')) {
                const t = table.getBoundingClientRect();
                const c = cell.getBoundingClientRect();
                const box = table.closest('.scroll-x');
                const held = box && box.getBoundingClientRect().right <= c.right + 1;
                if (t.right > c.right + 1 && !held)
                  out.push('table sticks out: ' + table.className);
              }
          }
          const card = document.querySelector('#card-topic').getBoundingClientRect();
          for (const cell of document.querySelectorAll('#card-topic .grid2 > *'))
            if (cell.getBoundingClientRect().right > card.right + 1)
              out.push('cell past card');
          return out;
        }"""
    )
    assert overlaps == []
    cell = page.locator(
        "#card-topic .grid2 > div", has=page.locator("table.coefficients")
    )
    if width >= 1280:  # wide screens show it whole, no scrolling
        assert cell.evaluate("c => c.scrollWidth <= c.clientWidth")


@pytest.mark.parametrize("width,height", [(390, 844), (1366, 768)])
def test_page_never_scrolls_sideways_and_matrices_stay_in_their_card(
    page, coded_project, width, height
):
    """At 390 px the page was 636 px wide; at 1366 px the matrices ran out of the
    card. Wide tables now scroll inside focusable regions of their card."""
    set_membership(
        project=coded_project, user=UserFactory(username="rev"), role="reviewer"
    )
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    outside = page.evaluate(
        """() => [...document.querySelectorAll('section.card')].flatMap(card => {
            const edge = card.getBoundingClientRect().right;
            return [...card.querySelectorAll('table.heatmap, table.coincidence')]
              .map(t => t.closest('.scroll-x'))
              .filter(box => !box || box.getBoundingClientRect().right > edge + 1)
              .map(() => card.id);
        })"""
    )
    assert outside == []
    region = page.locator("#card-topic .scroll-x").first
    assert region.get_attribute("tabindex") == "0"
    assert region.get_attribute("aria-label")


def test_trend_names_every_period_and_the_choice_is_in_the_url(page, coded_project):
    set_membership(
        project=coded_project, user=UserFactory(username="rev"), role="reviewer"
    )
    log_in(page, "rev", PASSWORD)
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    topic = page.locator("#card-topic")
    periods = topic.locator("table.periods tbody tr").count()
    assert topic.locator("svg.trend text.tick").count() == periods
    titles = topic.locator("svg.trend text.axis-title").all_text_contents()
    assert titles == ["α", "Week (starting Monday)"]
    legend = topic.locator(".coder-legend").inner_text()
    assert "reliable" in legend and "unreliable" in legend

    stance = page.locator("#card-stance")
    stance.locator("select[name=over]").select_option("batch")
    stance.locator("input[name=batch_size]").fill("3")
    stance.get_by_role("button", name="Show").click()
    page.wait_for_url(lambda url: "over=batch" in url and "batch_size=3" in url)
    bookmarked = page.url
    page.goto(reverse("project-agreement", args=[coded_project.pk]))
    page.goto(bookmarked)  # the bookmark opens the same view
    stance = page.locator("#card-stance")
    assert stance.locator("select[name=over]").input_value() == "batch"
    assert stance.locator("table.periods").get_by_text("units 1–3").count() == 1
    assert stance.locator("svg.trend text.axis-title").last.text_content() == (
        "Batch of units"
    )
