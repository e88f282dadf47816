"""The certification gate (issue 16): off, warn and require, through the claim
service, the coding page (full and htmx) and the claim API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotator.models import Membership
from annotator.services import claim_next_span
from annotator.services.gate import NOT_CERTIFIED, NotCertified
from tests.factories import make_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
GATE_CARD = 'data-gate="require"'
BANNER = 'data-gate="warn"'


def gated(gate: str, *, certified: bool = False, name: str = "ann"):
    project = make_project(documents=1, spans_per_document=3, coders=[name])
    project.certification_gate = gate
    project.save(update_fields=["certification_gate"])
    if certified:
        Membership.objects.filter(project=project).update(certified_at=timezone.now())
    return project, User.objects.get(username=name)


def page(client, project, user, headers=None):
    client.force_login(user)
    return client.get(reverse("project-code", args=[project.pk]), headers=headers)


def api_claim(project, user):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(reverse("api-claim", args=[project.pk]))


def test_not_certified_is_a_validation_error_saying_where_to_go():
    assert issubclass(NotCertified, ValidationError)
    assert "certification test" in NOT_CERTIFIED and "Training page" in NOT_CERTIFIED


@pytest.mark.parametrize("gate", ["off", "warn"])
def test_off_and_warn_let_an_uncertified_coder_claim(gate):
    project, ann = gated(gate)
    assert claim_next_span(project=project, coder=ann) is not None


def test_require_refuses_an_uncertified_coder_and_takes_nothing():
    project, ann = gated("require")
    with pytest.raises(NotCertified, match="certification test"):
        claim_next_span(project=project, coder=ann)
    assert not project.assignments.exists()


def test_require_lets_a_certified_coder_claim():
    project, ann = gated("require", certified=True)
    assert claim_next_span(project=project, coder=ann) is not None


@pytest.mark.parametrize("headers", [None, HX], ids=["page", "htmx"])
def test_the_page_under_require_shows_the_gate_card_not_a_span(client, headers):
    project, ann = gated("require")
    response = page(client, project, ann, headers)
    assert response.status_code == 200
    html = response.text
    assert GATE_CARD in html and "Certification needed" in html
    assert 'name="assignment"' not in html and "All done" not in html
    assert BANNER not in html
    assert not project.assignments.exists()


@pytest.mark.parametrize("headers", [None, HX], ids=["page", "htmx"])
def test_the_page_under_warn_shows_a_banner_above_the_span(client, headers):
    project, ann = gated("warn")
    html = page(client, project, ann, headers).text
    assert BANNER in html and "certification test" in html
    assert 'name="assignment"' in html and GATE_CARD not in html


@pytest.mark.parametrize(
    "gate,certified", [("off", False), ("warn", True), ("require", True)]
)
@pytest.mark.parametrize("headers", [None, HX], ids=["page", "htmx"])
def test_the_page_says_nothing_when_off_or_certified(client, headers, gate, certified):
    project, ann = gated(gate, certified=certified)
    html = page(client, project, ann, headers).text
    assert "data-gate" not in html and 'name="assignment"' in html


def test_the_api_answers_403_with_the_reason_under_require():
    project, ann = gated("require")
    response = api_claim(project, ann)
    assert response.status_code == 403
    assert response.json() == {"detail": NOT_CERTIFIED}


@pytest.mark.parametrize(
    "gate,certified", [("off", False), ("warn", False), ("require", True)]
)
def test_the_api_claims_when_off_warn_or_certified(gate, certified):
    project, ann = gated(gate, certified=certified)
    assert api_claim(project, ann).status_code == 200


def test_the_gate_costs_the_coding_page_no_query(client):
    """The gate and the certified bit come with the project's one query
    (access.PROJECT_COLUMNS) and the coder's lock (LOCK_CODER)."""
    counts = {}
    for gate in ("off", "warn"):
        project, coder = gated(gate, name=f"ann-{gate}")
        page(client, project, coder)  # claims; the next GET serves it again
        with CaptureQueriesContext(connection) as queries:
            page(client, project, coder, HX)
        counts[gate] = len(queries)
    assert counts["off"] == counts["warn"]
