"""The agreement dashboard and API: who may see them, and that they show the figures."""

from __future__ import annotations

import json
import math
import re

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator.agreement.interval_policy import METHOD, NAME, made_by
from annotator.agreement_report import project_report
from annotator.models import Membership
from tests.factories import (
    UserFactory,
    logged_in,
    make_coded_project,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = make_coded_project(documents=3)
    return project


def page_url(project):
    return reverse("project-agreement", args=[project.pk])


def api_url(project):
    return reverse("api-project-agreement", args=[project.pk])


@pytest.mark.parametrize("role", [Membership.Role.REVIEWER, Membership.Role.MANAGER])
def test_reviewers_and_managers_see_every_dimension_card(client, project, role):
    user = member(project, "boss", role)
    response = logged_in(client, user).get(page_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    report = project_report(project, n_resamples=1000)
    for d in report.dimensions:
        assert f'id="card-{d.key}"' in html
        assert d.reading.replace("'", "&#x27;") in html
        assert f"<strong data-units>{d.estimate.n_units}</strong>" in html
        assert f"<strong data-excluded>{d.estimate.excluded_units}</strong>" in html
    assert 'class="heatmap pairwise"' in html and 'class="heatmap confusion"' in html
    assert "κ is undefined, not zero" in html  # a – is explained, never read as 0
    assert '<svg class="trend"' in html
    # Served locally: no stylesheet or script from another host (no CDN).
    assert "agreement.css" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    for name in ("c1", "c2", "c3"):
        assert f"<td>{name}</td>" in html  # the per-coder table


def test_coders_are_refused_and_non_members_do_not_find_the_project(client, project):
    from django.contrib.auth.models import User

    coder = User.objects.get(username="c1")
    assert logged_in(client, coder).get(page_url(project)).status_code == 403
    client.logout()
    stranger = UserFactory(username="stranger")
    assert logged_in(client, stranger).get(page_url(project)).status_code == 404
    client.logout()
    response = client.get(page_url(project))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_htmx_partial_is_one_card_with_the_chosen_periods(client, project):
    user = member(project, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(
        page_url(project),
        {"dimension": "stance", "over": "batch", "batch_size": "4"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card')
    assert 'id="card-stance"' in html and 'id="card-topic"' not in html
    assert "<html" not in html
    assert "units 1–4" in html and "units 5–8" in html


def test_without_htmx_the_form_reloads_the_whole_page(client, project):
    user = member(project, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(
        page_url(project), {"dimension": "stance", "over": "batch", "batch_size": "5"}
    )
    html = response.content.decode()
    assert "<html" in html and 'id="card-topic"' in html and "units 1–5" in html
    assert 'action="' + page_url(project) + '"' in html


def test_bad_options_are_named(client, project):
    user = member(project, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(page_url(project), {"over": "month"})
    assert response.status_code == 400
    assert "over must be one of week, batch" in response.content.decode()
    response = client.get(api_url(project), {"batch_size": "x"})
    assert response.status_code == 400
    assert "batch_size must be a whole number" in response.json()["detail"]
    # Unicode digits pass str.isdigit(): named, never a 500.
    response = client.get(api_url(project), {"documents": "\u00b2"})
    assert response.status_code == 400
    assert "documents must be a whole number" in response.json()["detail"]


def test_api_returns_the_report_as_json(client, project):
    user = member(project, "rev", Membership.Role.REVIEWER)
    response = logged_in(client, user).get(api_url(project))
    assert response.status_code == 200
    data = json.loads(response.content)  # strict JSON: no NaN
    want = project_report(project).to_dict()
    got_dims = {d["key"]: d for d in data["dimensions"]}
    assert list(got_dims) == ["topic", "stance", "tags"]
    for d in want["dimensions"]:
        got = got_dims[d["key"]]
        assert got["alpha"] == d["alpha"]
        assert got["coefficients"] == d["coefficients"]
        assert got["n_units"] == d["n_units"] and got["n_pairable"] == d["n_pairable"]
        assert got["excluded_units"] == d["excluded_units"]
        assert [c["username"] for c in got["coders"]] == ["c1", "c2", "c3"]
        assert got["pairwise_kappa"]["coders"] == ["c1", "c2", "c3"]
    topic = got_dims["topic"]
    assert set(topic["coefficients"]) >= {"krippendorff_alpha", "fleiss_kappa"}
    assert topic["over_time"]["by"] == "week"
    assert topic["confusion_matrix"]["categories"] == ["Arms", "Trade", "Other"]


def test_api_permissions(client, project):
    from django.contrib.auth.models import User

    coder = User.objects.get(username="c1")
    assert logged_in(client, coder).get(api_url(project)).status_code == 403
    client.logout()
    stranger = UserFactory(username="stranger")
    assert logged_in(client, stranger).get(api_url(project)).status_code == 404
    client.logout()
    assert client.get(api_url(project)).status_code == 401
    manager = member(project, "boss", Membership.Role.MANAGER)
    token = Token.objects.create(user=manager)
    response = client.get(api_url(project), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_api_limits_document_rows(client, project):
    user = member(project, "rev", Membership.Role.REVIEWER)
    logged_in(client, user)
    data = client.get(api_url(project), {"documents": "1"}).json()
    docs = data["dimensions"][0]["documents"]
    assert docs["shown"] == len(docs["rows"]) <= 1 <= docs["n_documents"]
    assert client.get(api_url(project), {"documents": "-1"}).status_code == 400


@pytest.mark.parametrize("htmx", [False, True])
def test_each_interval_names_its_method_on_the_page_and_in_the_api(client, htmx):
    project = make_coded_project(documents=20)  # enough units for intervals
    user = member(project, "rev", Membership.Role.REVIEWER)
    client = logged_in(client, user)
    headers = {"HX-Request": "true"} if htmx else {}
    html = client.get(page_url(project), {"dimension": "topic"}, headers=headers)
    html = html.content.decode()
    assert ("<html" in html) is not htmx
    topic = project_report(project).dimensions[0]
    shown = [name for name in topic.interval_methods if topic.interval_holds(name)]
    assert shown  # the test means something only if some interval holds
    for name in shown:
        low, high = topic.intervals[name]
        method = NAME[topic.interval_methods[name]]
        assert topic.interval_methods[name] in made_by(METHOD[name])
        assert (
            f'{low:.3f} – {high:.3f} <small class="muted" '
            f"data-interval-method>({method})</small>"
        ) in html, name
    if topic.interval_holds("krippendorff_alpha"):
        method = NAME[topic.interval_methods["krippendorff_alpha"]]
        assert f"95% interval ({method})</span>" in html
    for name, note in topic.interval_notes.items():
        if math.isnan(topic.intervals[name][0]):  # withheld: the reason instead
            assert f"withheld: {note}" in html, name
    api = client.get(api_url(project)).json()["dimensions"][0]
    assert api["intervals"]["methods"] == topic.interval_methods
    for name, figures in api["coefficients"].items():
        assert figures["interval_method"] == topic.interval_methods.get(name), name
