"""Small samples on the agreement page and API: which units each figure rests on,
a neutral caution instead of a verdict, no interval shown that cannot hold,
Conger's and Cohen's kappa explained, negative alpha drawn below zero."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from annotator.agreement_report import MIN_PAIRABLE_UNITS, project_report
from annotator.models import Membership
from annotator.services import claim_next_span, set_membership, submit_annotation
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db

TOPICS = ("arms", "trade", "other")


def code(project, plan):
    """Each coder codes, in claim order, the topics listed for them."""
    start = timezone.now() - timedelta(days=2)
    for name, topics in plan.items():
        coder = User.objects.get(username=name)
        for i, topic in enumerate(topics):
            now = start + timedelta(minutes=i)
            assignment = claim_next_span(project=project, coder=coder, now=now)
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels={"topic": topic, "stance": "neutral", "tags": []},
                now=now + timedelta(seconds=5),
            )


@pytest.fixture
def small():
    """12 spans all meant for two coders; c2 coded only the first two, and
    disagreed with c1 on both: 2 double-coded units, 10 single-coded."""
    project = make_project(
        documents=1, spans_per_document=12, coders=("c1", "c2"), sample_share=1.0
    )
    code(project, {"c1": [TOPICS[i % 3] for i in range(12)], "c2": ["trade", "other"]})
    return project


def reviewer_client(client, project):
    user = UserFactory(username="rev")
    set_membership(project=project, user=user, role=Membership.Role.REVIEWER)
    client.login(username="rev", password=PASSWORD)
    return client


def topic_card(html):
    return html[html.index('id="card-topic"') : html.index('id="card-stance"')]


@pytest.mark.parametrize("htmx", [False, True])
def test_small_sample_gets_a_caution_and_no_interval_passed_off_as_one(
    client, small, htmx
):
    client = reviewer_client(client, small)
    url = reverse("project-agreement", args=[small.pk])
    if htmx:
        response = client.get(
            url, {"dimension": "topic"}, headers={"HX-Request": "true"}
        )
        html = response.content.decode() + 'id="card-stance"'
        assert "<html" not in html
    else:
        html = client.get(url).content.decode()
        assert "<html" in html
    card = topic_card(html)
    assert (
        "Too few double-coded units for a stable estimate: 2 "
        f"(fewer than {MIN_PAIRABLE_UNITS}); intervals at this size are wide "
        "and may not cover the true value." in card
    )
    assert "revise the codebook" not in card and "not reliable:" not in card
    assert '<section class="card band-none" id="card-topic"' in html  # no verdict
    report = project_report(small).dimensions[0]
    assert report.estimate.value < 0  # both double-coded units disagree
    # Each coefficient says which units it rests on ...
    assert '<td class="units" data-basis="pairable">pairable units: 2</td>' in card
    assert '<td class="units" data-basis="coded">all coded units: 12</td>' in card
    # ... and none of the intervals is printed as numbers.
    for name, (low, high) in report.intervals.items():
        assert f"{low:.3f} – {high:.3f}" not in card, name
    # Each is either not reliable at this size or withheld by its method, with
    # the reason instead.
    shown = card.count("data-unreliable") + card.count("data-withheld")
    assert shown == len(report.intervals)
    # Alpha's headline gives no interval either.
    assert f"[{report.alpha.ci_low:.3f}," not in card


def test_api_says_which_units_each_coefficient_rests_on(client, small):
    client = reviewer_client(client, small)
    data = client.get(reverse("api-project-agreement", args=[small.pk])).json()
    topic = data["dimensions"][0]
    assert topic["caution"].startswith("Too few double-coded units")
    assert topic["min_pairable_units"] == MIN_PAIRABLE_UNITS
    assert "revise" not in topic["reading"]
    assert topic["band"] == "none"  # no verdict colour either
    coefficients = topic["coefficients"]
    assert coefficients["krippendorff_alpha"]["units"] == {"basis": "pairable", "n": 2}
    assert coefficients["percent_agreement"]["units"] == {"basis": "pairable", "n": 2}
    assert coefficients["cohen_kappa"]["units"] == {"basis": "pairable", "n": 2}
    for name in ("fleiss_kappa", "conger_kappa", "scott_pi", "gwet_ac1"):
        assert coefficients[name]["units"] == {"basis": "coded", "n": 12}, name
    assert topic["alpha"]["units"] == {"basis": "pairable", "n": 2}
    assert topic["alpha"]["interval_holds"] is False
    for name, c in coefficients.items():
        assert c["interval_holds"] is False, name
        assert "ci_low" in c and "ci_high" in c  # kept: the API only adds fields


def test_two_coders_say_why_conger_and_cohen_differ(client, small):
    report = project_report(small).dimensions[0]
    conger = report.coefficients["conger_kappa"].value
    cohen = report.coefficients["cohen_kappa"].value
    assert round(conger, 3) != round(cohen, 3)
    html = topic_card(
        reviewer_client(client, small)
        .get(reverse("project-agreement", args=[small.pk]))
        .content.decode()
    )
    note = re.search(r"<p class=\"note\" data-conger-cohen>(.*?)</p>", html).group(1)
    assert "Cohen&#x27;s κ uses only the 2 units both coders coded" in note
    assert "every unit that coder coded (12 units, 10 of them coded by one" in note


def test_no_conger_cohen_note_when_they_coincide(db):
    project = make_project(
        documents=1, spans_per_document=6, coders=("c1", "c2"), sample_share=1.0
    )
    code(
        project,
        {
            "c1": ["arms", "trade", "other", "arms", "arms", "trade"],
            "c2": ["arms", "trade", "arms", "arms", "other", "trade"],
        },
    )
    d = project_report(project, n_resamples=20).dimensions[0]
    assert d.coefficients["conger_kappa"].value == pytest.approx(
        d.coefficients["cohen_kappa"].value
    )
    assert d.conger_cohen_note == "" and d.to_dict()["conger_cohen_note"] is None


def test_trend_draws_negative_alpha_below_the_zero_line(client, small):
    html = topic_card(
        reviewer_client(client, small)
        .get(reverse("project-agreement", args=[small.pk]))
        .content.decode()
    )
    svg = html[html.index('<svg class="trend"') : html.index("</svg>")]
    zero = float(re.search(r'<line class="zero"[^>]* y1="([\d.]+)"', svg).group(1))
    bottom = float(re.search(r'<line class="axis"[^>]* y1="([\d.]+)"', svg).group(1))
    top = float(re.search(r'<text x="\d+" y="([\d.]+)" dy="4">1.0<', svg).group(1))
    (cy,) = [float(v) for v in re.findall(r'<circle [^>]*cy="([\d.]+)"', svg)]
    value = project_report(small).dimensions[0].over_time[0].result.value
    assert value < 0
    assert zero < cy < bottom  # below zero, above (not on) the bottom axis
    # On scale: the distance below zero is the value's share of the 0..1 height.
    assert (cy - zero) / (zero - top) == pytest.approx(-value, abs=0.01)
    assert ">0</text>" in svg


def test_enough_double_coded_units_show_intervals_that_hold(client, db):
    n = MIN_PAIRABLE_UNITS
    project = make_project(
        documents=1, spans_per_document=n, coders=("c1", "c2"), sample_share=1.0
    )
    c1 = [TOPICS[i % 3] for i in range(n)]
    c2 = [TOPICS[(i + (i % 5 == 0)) % 3] for i in range(n)]
    code(project, {"c1": c1, "c2": c2})
    d = project_report(project).dimensions[0]
    assert d.caution == "" and d.estimate.n_units == n
    html = topic_card(
        reviewer_client(client, project)
        .get(reverse("project-agreement", args=[project.pk]))
        .content.decode()
    )
    assert "data-caution" not in html
    for name, (low, high) in d.intervals.items():
        if low <= d.coefficients[name].value <= high:
            assert d.interval_holds(name)
            if name != "krippendorff_alpha":
                assert f"{low:.3f} – {high:.3f}" in html, name
    assert f"[{d.alpha.ci_low:.3f}, {d.alpha.ci_high:.3f}]" in html


def test_command_table_gives_the_same_caution_and_hides_the_intervals(small):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("agreement", "--project", str(small.pk), stdout=out)
    topic = out.getvalue().split("Stance [stance")[0]
    assert "Too few double-coded units for a stable estimate: 2" in topic
    assert "revise the codebook" not in topic
    report = project_report(small).dimensions[0]
    for low, high in report.intervals.values():
        assert f"{low:.3f} – {high:.3f}" not in topic
    assert "not reliable" in topic and "coded units: 12" in topic
    assert "Cohen's κ uses only the 2 units both coders coded" in topic
