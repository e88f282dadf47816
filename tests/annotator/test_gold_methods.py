"""A bad gold_methods: refused by the model (so the admin), answered 409 by the
gold endpoints when it is already in the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.models import Membership, Project
from tests.annotator import test_export_api as api
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
project = api.project
reviewer = api.reviewer


@pytest.mark.parametrize(
    ("methods", "named"),
    [
        (["unanimous", "bogus"], "entry 2, 'bogus'"),
        (["single", "single"], "entry 2, 'single', is listed twice"),
        ("unanimous", "must be a list"),
        ([["majority"]], "entry 1, ['majority']"),
    ],
)
def test_the_model_refuses_a_bad_chain_naming_the_entry(project, methods, named):
    project.gold_methods = methods
    with pytest.raises(ValidationError) as error:
        project.full_clean(exclude=["created_by"])  # null in fixtures, not blank
    assert named in " ".join(error.value.message_dict["gold_methods"])


def test_good_chains_pass(project):
    for methods in ([], ["model"], ["unanimous", "single", "majority", "model"]):
        project.gold_methods = methods
        project.full_clean(exclude=["created_by"])  # null in fixtures, not blank


def test_the_admin_form_names_the_bad_entry(client, project):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:annotator_project_change", args=[project.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        name=project.name, codebook=project.codebook_id,
        gold_methods='["unanimous", "bogus"]', gold_min_share="0.5",
        gold_min_posterior="0.9", lease_minutes="30",
        **{"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"},
    )  # fmt: skip
    data.pop("created_by", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "entry 2, &#x27;bogus&#x27;, is not a rule" in response.text
    project.refresh_from_db()
    assert project.gold_methods == ["unanimous", "single"]


@pytest.mark.parametrize("name", ["api-gold", "api-gold-csv", "api-gold-jsonl"])
def test_gold_endpoints_answer_409_for_a_bad_chain_already_stored(
    client, project, reviewer, name
):
    Project.objects.filter(pk=project.pk).update(gold_methods=["unanimous", "vote"])
    client.force_login(reviewer)
    response = client.get(reverse(name, args=[project.pk]))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "entry 2, 'vote', is not a rule" in detail and "admin" in detail


def test_the_html_adjudication_page_still_copes(client, project):
    Project.objects.filter(pk=project.pk).update(gold_methods=["vote"])
    manager = UserFactory(username="boss")
    Membership.objects.create(project=project, user=manager, role="manager")
    client.force_login(manager)
    response = client.get(reverse("project-adjudicate", args=[project.pk]))
    assert response.status_code < 500
