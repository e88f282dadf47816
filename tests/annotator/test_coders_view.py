"""The reviewers' coders pages and API: certification, checks over time, confusions,
alerts on the project page; fixed query counts; coders refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotator.gold import refresh_gold
from annotator.models import GoldRun, Membership, Project, TrainingAttempt
from annotator.training import coders as coders_module
from tests.factories import (
    UserFactory,
    answer_checks,
    code_everything,
    logged_in,
    make_project,
    member,
)

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
DRIFT = [True] * 10 + [False, False, True] + [False] * 3 + [True] + [False] * 3


@pytest.fixture
def project():
    """Three coders coded everything; c3 drifts on hidden checks, c1 does not; c1
    passed the test."""
    project = make_project(
        documents=6, spans_per_document=4, coders=("c1", "c2", "c3"), sample_share=1
    )
    code_everything(project)
    users = {u.username: u for u in (m.user for m in project.memberships.all())}
    start = timezone.now() - timedelta(days=1)
    answer_checks(project, users["c3"], DRIFT, start=start)
    answer_checks(project, users["c1"], [True] * 9 + [False], start=start)
    TrainingAttempt.objects.create(
        project=project, coder=users["c1"], kind="test",
        codebook_id=project.codebook_id, finished_at=start, passed=True,
        results={"topic": {"alpha": 0.91, "percent": 95.0, "n": 20}},
    )  # fmt: skip
    Membership.objects.filter(project=project, user=users["c1"]).update(
        certified_at=start
    )
    return project


@pytest.fixture
def reviewer(project):
    return member(project, "rita", "reviewer")


def user(name):
    return UserFactory(username=name)


def test_the_coders_page_lists_each_coder_full_and_partial(client, project, reviewer):
    logged_in(client, reviewer)
    url = reverse("project-coders", args=[project.pk])
    full = client.get(url)
    assert full.status_code == 200 and full.text.count("<h1") == 1
    rows = {r.username: r for r in full.context["overview"].reports}
    assert list(rows) == ["c1", "c2", "c3"]
    assert rows["c1"].certified_at and rows["c1"].last_test["passed"] is True
    assert rows["c3"].checks["n"] == 20 and rows["c3"].checks["alert"]
    assert rows["c3"].checks["rolling"]["topic"] == pytest.approx(0.6)
    assert not rows["c1"].checks["alert"] and rows["c2"].checks["n"] == 0
    assert full.text.count('class="flag"') == 1
    assert reverse("project-coder", args=[project.pk, user("c3").pk]) in full.text
    part = client.get(url, headers=HTMX)
    assert part.status_code == 200 and "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="coder-table"')


def test_a_coders_page_draws_the_chart_and_both_matrices(client, project, reviewer):
    logged_in(client, reviewer)
    url = reverse("project-coder", args=[project.pk, user("c3").pk])
    full = client.get(url)
    assert full.status_code == 200 and full.text.count("<h1") == 1
    text = full.text
    assert '<svg class="checks"' in text and 'class="threshold"' in text
    assert text.count("<polyline") == 3  # topic, stance, tags
    assert "<figcaption" in text and "the threshold is 80%" in text
    assert "style=" not in text  # the CSP refuses inline styles
    report = full.context["coder"]
    assert [m.dimension for m in report.check_confusion] == ["topic", "stance"]
    topic = report.check_confusion[0]
    assert topic.rows[topic.categories.index("arms")][topic.categories.index("trade")]
    checks_top = [c for c in report.confusions if c.source == "checks"]
    assert (checks_top[0].truth, checks_top[0].said) == ("arms", "trade")
    assert full.context["model"].source == "fitted"  # no gold run with the model
    assert {m.dimension for m in report.dawid_skene} == {"topic", "stance"}
    assert len(report.dawid_skene[0].rows) == 3
    part = client.get(url, headers=HTMX)
    assert part.text.lstrip().startswith('<section id="checks"')


def test_a_coder_without_checks_and_an_unknown_user(client, project, reviewer):
    logged_in(client, reviewer)
    page = client.get(reverse("project-coder", args=[project.pk, user("c2").pk]))
    assert page.status_code == 200 and "No hidden check answered yet" in page.text
    missing = client.get(reverse("project-coder", args=[project.pk, reviewer.pk]))
    assert missing.status_code == 404


def test_the_gold_run_keeps_the_models_confusion_and_the_page_reads_it(
    client, project, reviewer
):
    Project.objects.filter(pk=project.pk).update(gold_methods=["unanimous", "model"])
    project.refresh_from_db()
    refresh_gold(project)
    run = GoldRun.objects.filter(project=project, dimension__key="topic").first()
    c3 = str(user("c3").pk)
    assert set(run.coder_confusion) == {str(user(n).pk) for n in ("c1", "c2", "c3")}
    assert run.coder_confusion[c3]["categories"] == ["arms", "trade", "other"]
    rows = run.coder_confusion[c3]["matrix"]
    assert len(rows) == 3
    assert all(sum(row) == pytest.approx(1, abs=1e-3) for row in rows)
    tags = GoldRun.objects.filter(project=project, dimension__key="tags").first()
    assert tags.coder_confusion == {}  # multi-choice: per-category binary fits
    logged_in(client, reviewer)
    page = client.get(reverse("project-coder", args=[project.pk, int(c3)]))
    assert page.context["model"].source == "gold"
    assert page.context["coder"].dawid_skene[0].rows == rows


def test_a_large_project_asks_for_the_model_rule(
    client, project, reviewer, monkeypatch
):
    monkeypatch.setattr(coders_module, "CODERS_DS_IN_REQUEST_MAX_RATINGS", 10)
    logged_in(client, reviewer)
    page = client.get(reverse("project-coder", args=[project.pk, user("c3").pk]))
    assert page.context["model"].source == "too_large"
    assert "add the <code>model</code> rule" in page.text
    assert page.context["coder"].dawid_skene == []


def test_the_api_answers_per_coder_with_alerts(client, project, reviewer):
    token = Token.objects.create(user=reviewer)
    url = reverse("api-project-coders", args=[project.pk])
    body = client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert body["check_window"] == 20 and body["check_min_accuracy"] == 0.8
    assert body["dawid_skene"] == {"source": "fitted", "as_of": None}
    assert [(a["username"], a["dimension"]) for a in body["alerts"]] == [
        ("c3", "topic")
    ]
    by_name = {c["coder"]["username"]: c for c in body["coders"]}
    c3 = by_name["c3"]
    assert set(c3) == {
        "coder", "certified_at", "practice", "attempts", "checks",
        "check_confusion", "dawid_skene", "confusions",
    }  # fmt: skip
    assert c3["checks"]["n"] == 20 and c3["checks"]["alert"] is True
    assert c3["checks"]["rolling"]["topic"] == pytest.approx(0.6)
    assert c3["dawid_skene"][0]["dimension"] == "topic"
    assert {c["source"] for c in c3["confusions"]} == {"checks", "dawid_skene"}
    c1 = by_name["c1"]
    assert c1["certified_at"] and c1["attempts"][0]["passed"] is True
    assert c1["checks"]["alert"] is False


def test_coders_are_refused_and_anonymous_callers_sent_away(client, project):
    coder = user("c1")
    logged_in(client, coder)
    assert client.get(reverse("project-coders", args=[project.pk])).status_code == 403
    page = reverse("project-coder", args=[project.pk, coder.pk])
    assert client.get(page).status_code == 403
    token = Token.objects.create(user=coder)
    api = reverse("api-project-coders", args=[project.pk])
    assert client.get(api, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 403
    client.logout()
    assert client.get(api).status_code == 401
    assert client.get(page)["Location"].startswith(reverse("login"))


def test_the_project_page_alerts_reviewers_not_coders(client, project, reviewer):
    logged_in(client, reviewer)
    text = client.get(project.get_absolute_url()).text
    assert "Hidden checks: 1 alert" in text and "c3</a>: topic right in 60%" in text
    logged_in(client, user("c3"))
    assert "Hidden checks" not in client.get(project.get_absolute_url()).text


@pytest.mark.parametrize("extra", [0, 4])
def test_query_counts_do_not_grow_with_coders(
    client, project, reviewer, extra, django_assert_num_queries
):
    for i in range(extra):
        coder = member(project, f"x{i}", "coder")
        answer_checks(project, coder, [True, False, True])
    logged_in(client, reviewer)
    token = Token.objects.create(user=reviewer)
    coders_url = reverse("project-coders", args=[project.pk])
    coder_url = reverse("project-coder", args=[project.pk, user("c3").pk])
    api = reverse("api-project-coders", args=[project.pk])
    client.get(coders_url)  # scores the checks and warms the codebook cache
    # session, user, project (+role), pending checks, scored checks, attempts,
    # practice, coders, the two permission lookups of the menu
    with django_assert_num_queries(10):
        client.get(coders_url)
    # + the model: the latest gold runs, the ratings' count, the dimensions,
    # a scale per single-choice dimension (2) and the ratings (annotations, labels)
    with django_assert_num_queries(17):
        client.get(coder_url)
    # token (+user), project (+role), the page's reads, no menu
    with django_assert_num_queries(14):
        client.get(api, HTTP_AUTHORIZATION=f"Token {token.key}")


def test_managers_get_the_certify_form_reviewers_not(client, project, reviewer):
    url = reverse("project-coder", args=[project.pk, user("c3").pk])
    logged_in(client, reviewer)
    assert "Certify c3 by hand" not in client.get(url).text
    logged_in(client, member(project, "mona", "manager"))
    text = client.get(url).text
    assert "Certify c3 by hand" in text
    assert reverse("project-coder-certify", args=[project.pk, user("c3").pk]) in text
