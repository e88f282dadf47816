"""Reliability page: the dashboard's and the API's figures; options; access."""

from __future__ import annotations

import json
import math
import re

import pytest
from django.contrib.auth.models import User
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.html import escape

from annotator.agreement_report.print_tables import figure, interval
from annotator.agreement_report.reliability import reliability_report
from annotator.models import Membership
from tests.factories import UserFactory, logged_in, make_coded_project, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def big():
    """A project with enough double-coded spans (32) for intervals that hold."""
    project = make_coded_project(documents=16)
    return project, member(project, "rev", Membership.Role.REVIEWER)


@pytest.fixture
def small():
    return make_coded_project(documents=3)


def page_url(project, query: str = "") -> str:
    return reverse("project-reliability", args=[project.pk]) + query


def row(html: str, dimension: str, coefficient: str) -> str:
    card = html.split(f'id="card-{dimension}"', 1)[1].split("</section>", 1)[0]
    return card.split(f'data-coefficient="{coefficient}"', 1)[1].split("</tr>", 1)[0]


def three(x: float) -> str:
    """A figure as the templates print it (floatformat rounds half up, where
    Python's format rounds the binary value half to even: .5625 is .563 here)."""
    return floatformat(x, 3)


def apa(x: float | None) -> str:
    """A figure as the report page and its downloads print it (print_tables)."""
    return figure(math.nan if x is None else x)


def test_figures_equal_the_dashboards_and_the_apis(client, big):
    project, reviewer = big
    client = logged_in(client, reviewer)
    page = client.get(page_url(project)).content.decode()
    dashboard = client.get(reverse("project-agreement", args=[project.pk]))
    dashboard = dashboard.content.decode()
    api = json.loads(
        client.get(reverse("api-project-agreement", args=[project.pk])).content
    )
    held = 0
    for d in api["dimensions"]:
        for name, c in d["coefficients"].items():
            value = "–" if c["value"] is None else three(c["value"])
            assert f">{value}</td>" in dashboard
            if name == "krippendorff_alpha":  # the headline, below
                continue
            cells = row(page, d["key"], name)
            assert f'<td class="num">{apa(c["value"])}</td>' in cells, (d["key"], name)
            if c["interval_holds"]:
                held += 1
                assert f"{three(c['ci_low'])} – {three(c['ci_high'])}" in dashboard
                assert interval(c["ci_low"], c["ci_high"]) in cells
            else:
                assert "data-withheld" in cells
        alpha = d["alpha"]
        headline = page.split(f'id="card-{d["key"]}"', 1)[1].split("</header>")[0]
        assert f'data-primary="krippendorff_alpha">{apa(alpha["value"])}<' in headline
        if alpha["interval_holds"]:
            assert f"[{apa(alpha['ci_low'])}, {apa(alpha['ci_high'])}]" in headline
        assert f"<strong data-units>{d['n_units']}</strong>" in headline
        assert f"<strong data-pairable>{d['n_pairable']}</strong>" in headline
        assert f"<strong data-coders>{d['n_coders']}</strong>" in headline
        for category in d["per_category"]:
            value = apa(category["value"])
            assert f'data-category="{category["key"]}"><td>' in page
            assert f"{value}</td>" in page
    assert held, "the factory project should have intervals that hold"


def test_the_report_object_is_the_dashboards_report(big):
    project, _ = big
    report = reliability_report(project)
    from annotator.agreement_report import project_report

    dashboard = project_report(project)
    assert [d.to_dict() for d in report.dimensions] == [
        d.to_dict() for d in dashboard.dimensions
    ]


def test_full_page_has_one_h1_the_paragraph_and_the_downloads(client, big):
    project, reviewer = big
    response = logged_in(client, reviewer).get(page_url(project, "?unit=paragraphs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1 and "<!doctype html>" in html
    report = reliability_report(project, unit_noun="paragraphs")
    paragraph = html.split("data-paragraph>", 1)[1].split("</p>", 1)[0]
    assert paragraph == escape(report.paragraph)
    assert "paragraphs" in paragraph
    for reference in report.references:
        assert f"<li>{escape(reference)}</li>" in html
    for line in report.sample_size.values():
        assert escape(line) in html
    assert "data-downloads" in html
    assert 'id="intervals-status"' not in html  # every interval in the request
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_htmx_partial_is_one_card_with_its_own_headline(client, big):
    project, reviewer = big
    response = logged_in(client, reviewer).get(
        page_url(project, "?dimension=topic&primary.topic=gwet_ac1"),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and html.count("<section") == 1
    assert 'id="card-topic"' in html and 'data-primary="gwet_ac1"' in html
    missing = logged_in(client, reviewer).get(
        page_url(project, "?dimension=nope"), HTTP_HX_REQUEST="true"
    )
    assert missing.status_code == 404


def test_query_count_is_pinned(client, big, django_assert_num_queries):
    project, reviewer = big
    client = logged_in(client, reviewer)
    client.get(page_url(project))  # sessions, caches
    with django_assert_num_queries(QUERIES):
        assert client.get(page_url(project)).status_code == 200
    # The partial reads the same report: the same statements.
    with django_assert_num_queries(QUERIES):
        partial = client.get(page_url(project, "?dimension=tags"), HTTP_HX_REQUEST="1")
        assert partial.status_code == 200


# Session and user, the project and access, the codebook's dimensions, the
# dashboard's report, the facts (items, annotations, complete sample units,
# ratings per unit twice, design changes, the codebook's digest).
QUERIES = 23


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?primary=nope", "primary"),
        ("?primary.nothere=gwet_ac1", "primary.nothere"),
        ("?primary.topic=nope", "primary.topic"),
        ("?unit=%3Cb%3E", "unit"),
    ],
)
def test_a_bad_option_is_a_400_naming_the_parameter(client, small, query, parameter):
    user = member(small, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(page_url(small, query))
    assert response.status_code == 400
    alert = response.content.decode().split('role="alert">', 1)[1].split("</p>")[0]
    assert alert.startswith(f"{parameter}:")


def test_coders_are_refused_and_strangers_sent_to_log_in(client, small):
    coder = User.objects.get(username="c1")
    assert logged_in(client, coder).get(page_url(small)).status_code == 403
    client.logout()
    response = client.get(page_url(small))
    assert response.status_code == 302 and "login" in response["Location"]
    stranger = UserFactory(username="stranger")
    assert logged_in(client, stranger).get(page_url(small)).status_code == 404


def test_the_dashboard_links_to_the_report(client, small):
    user = member(small, "boss", Membership.Role.MANAGER)
    html = logged_in(client, user).get(reverse("project-agreement", args=[small.pk]))
    assert f'href="{page_url(small)}" data-reliability-link' in html.content.decode()


def test_while_intervals_are_computed_the_dashboards_panel_shows(
    client, small, settings
):
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0
    # Enqueued jobs wait: nothing computes the intervals during the test.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    user = member(small, "rev", Membership.Role.REVIEWER)
    html = logged_in(client, user).get(page_url(small)).content.decode()
    assert 'id="intervals-status"' in html
    assert "data-downloads-waiting" in html
    assert "data-interval>" not in html  # no interval from older data


def test_a_headline_the_dimension_lacks_is_said_not_silently_swapped(client, small):
    # Three coders: no Cohen's κ anywhere; the page showed α with no word why.
    user = member(small, "rev", Membership.Role.REVIEWER)
    html = logged_in(client, user).get(page_url(small, "?primary=cohen_kappa"))
    html = html.content.decode()
    notes = re.findall(r"data-fallback>([^<]*)<", html)
    assert len(notes) == html.count('class="card ')
    assert all(n.startswith("Cohen&#x27;s κ is not computed") for n in notes)
    assert "Krippendorff&#x27;s α is its headline" in notes[0]
    plain = logged_in(client, user).get(page_url(small)).content.decode()
    assert "data-fallback" not in plain


def test_a_unit_noun_may_have_letters_beyond_a_to_z(client, small):
    # "letters and spaces only" refused "Absätze" as if ä were not a letter.
    user = member(small, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(page_url(small, "?unit=Absätze"))
    assert response.status_code == 200
    assert "Absätze" in response.content.decode()
    for bad in ("1%24", "a_b", "x" * 31):
        assert (
            logged_in(client, user).get(page_url(small, f"?unit={bad}")).status_code
            == 400
        )


def test_the_page_writes_figures_as_the_downloads_do(client, big):
    # APA: no leading zero on a coefficient bounded by 1, three decimals, a
    # true minus; the page read "0.630" where every download reads ".630".
    from annotator.agreement_report.print_tables import (
        category_table,
        secondary_table,
    )

    project, reviewer = big
    page = logged_in(client, reviewer).get(page_url(project)).content.decode()
    report = reliability_report(project)
    for d in report.dimensions:
        headline = page.split(f'id="card-{d.key}"', 1)[1].split("</header>")[0]
        alpha = d.estimate.value
        assert f'data-primary="krippendorff_alpha">{figure(alpha)}<' in headline
        if d.interval_holds("krippendorff_alpha"):
            low, high = d.intervals["krippendorff_alpha"]
            assert f"[{figure(low)}, {figure(high)}]" in headline
        table = secondary_table(report, d)
        for name, cells in zip(
            [k for k in d.coefficients if k != "krippendorff_alpha"],
            table.rows,
            strict=True,
        ):
            shown = row(page, d.key, name)
            assert f'<td class="num">{cells[1]}</td>' in shown, (d.key, name)
            if "–" in cells[2] and cells[2] != "–":  # an interval, as the file has it
                assert cells[2] in shown
        for (_, _, r), cells in zip(
            d.per_category, category_table(d).rows, strict=True
        ):
            assert cells[1] == figure(r.value)
            assert f'<td class="num">{cells[1]}</td>' in page
    assert interval(0.5, 0.75) == ".500–.750"


def test_a_version_the_codebook_never_had_is_404_saying_so(client, big):
    project, reviewer = big
    client = logged_in(client, reviewer)
    said = "No version 99 of this project's codebook."
    response = client.get(page_url(project, "?version=99"))
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Reliability report" in html  # the page, with its form
    assert f'<p class="error" role="alert">{escape(said)}</p>' in html
    assert "data-downloads" not in html
    partial = client.get(
        page_url(project, "?version=99&dimension=topic"), HTTP_HX_REQUEST="true"
    )
    assert partial.status_code == 404 and partial.content.decode() == said
    for name in ("html", "pdf", "md", "tex", "bundle"):
        response = client.get(
            reverse(f"project-reliability-{name}", args=[project.pk]) + "?version=99"
        )
        assert response.status_code == 404, name
        assert response.content.decode() == said, name
        assert response["Content-Type"] == "text/plain; charset=utf-8", name
