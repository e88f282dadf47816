"""The API against its own OpenAPI schema (schemathesis), as a coder, a reviewer and a
manager: no 5xx, and every response's status, content type, headers and body are
the ones /api/schema/ documents.

One test per operation and role. Path ids are either random (mostly 404s) or, for
most examples, the real project and the role's own assignment, so the
generated bodies and query strings reach the views' own validation. Examples are
bounded (EXAMPLES per operation and role) to keep the file near a minute in CI.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from annotator.gold import refresh_gold
from annotator.models import Assignment, Membership, WorkItem
from annotator.services import claim_next_span, submit_annotation
from tests.factories import UserFactory, make_project

EXAMPLES = 12
ROLES = ("coder", "reviewer", "manager")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def published_schema() -> dict:
    """What /api/schema/ serves (test_schema_is_the_published_one pins that), built
    without a request: at collection time the test hosts are not yet allowed."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(published_schema())
schema.app = get_wsgi_application()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end (each
    test still runs in its own savepoint through `db`)."""
    # Requests go through the bare WSGI handler, whose request signals would close
    # the test's database connection (Django's test Client unhooks them the same way).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def build_world() -> dict:
    """A coded project: a coder with a live claim, an expired one and a finished
    annotation, a second coder, a reviewer and a manager, each with an API token;
    gold refreshed."""
    project = make_project(documents=2, spans_per_document=3, coders=("c1", "c2"))
    users = {"coder": UserFactory(username="c1"), "other": UserFactory(username="c2")}
    for role in ("reviewer", "manager"):
        users[role] = UserFactory(username=role)
        Membership.objects.create(project=project, user=users[role], role=role)
    for user in (users["coder"], users["other"]):
        done = claim_next_span(project=project, coder=user)
        submit_annotation(
            coder=user,
            assignment=done,
            labels={"topic": "arms", "stance": "neutral", "tags": ["quote"]},
        )
    live = claim_next_span(project=project, coder=users["coder"])
    # An expired claim too: submits against it take the lapsed-claim paths.
    item = WorkItem.objects.filter(project=project, taken=0).first()
    now = timezone.now()
    Assignment.objects.create(
        project=project,
        work_item=item,
        span_id=item.span_id,
        coder=users["coder"],
        claimed_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )
    WorkItem.objects.filter(pk=item.pk).update(taken=1)
    refresh_gold(project)
    tokens = {role: Token.objects.create(user=u).key for role, u in users.items()}
    return {"project": project.pk, "assignment": live.pk, "tokens": tokens}


def aim(case, world) -> None:
    """Point most cases at real objects: a generated id (schemathesis passes them as
    text) becomes the real one unless it is 1 modulo 4 (those stay random, mostly
    404). Non-integers (negative examples) are kept."""
    real = {"project_id": world["project"], "id": world["project"]}
    real["assignment_id"] = world["assignment"]
    for name, value in list((case.path_parameters or {}).items()):
        if name in real and str(value).isdigit() and int(value) % 4 != 1:
            case.path_parameters[name] = str(real[name])


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, role, world, db):
    aim(case, world)
    case.call_and_validate(
        base_url="http://testserver",
        headers={"Authorization": f"Token {world['tokens'][role]}"},
        checks=CHECKS,
    )


def test_schema_is_the_published_one(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    assert json.loads(response.content) == published_schema()
