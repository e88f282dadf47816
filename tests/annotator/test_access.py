"""annotator/access.py: the rule table, and its ORM and SQL readings agree.

The access matrix (test_access_matrix.py) checks every URL as every kind of user;
these pin the rules themselves, and that the one-query check of the coders' hot path
(access.coding_project, access.own_assignment) decides what visible_projects and
project_for decide.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotator import access
from annotator.access import Can
from annotator.models import Membership
from annotator.services import claim_next_span
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db

# role in the project (None: not a member) -> what each may do
TABLE = {
    "coder": {Can.SEE, Can.CODE},
    "reviewer": {Can.SEE, Can.REVIEW},
    "manager": {Can.SEE, Can.REVIEW, Can.MANAGE},
    None: set(),
}


@pytest.mark.parametrize("role", list(TABLE))
@pytest.mark.parametrize("staff", [False, True])
def test_the_rule_table(role, staff):
    user = UserFactory(is_staff=staff)
    for action in Can:
        allowed = action in TABLE[role] or (staff and action != Can.CODE)
        assert access.allows(user, role, action) is allowed, (role, staff, action)


def test_anonymous_users_may_do_nothing():
    for role in TABLE:
        for action in Can:
            assert not access.allows(AnonymousUser(), role, action)


@pytest.fixture
def world():
    project = make_project(documents=1, spans_per_document=3, coders=["c1"])
    other = make_project(documents=1, spans_per_document=2, coders=["c2"])
    users = {"coder": project.memberships.get().user}
    for role in ("reviewer", "manager"):
        users[role] = UserFactory(username=role)
        Membership.objects.create(project=project, user=users[role], role=role)
    users["other_coder"] = other.memberships.get().user
    users["other_manager"] = UserFactory(username="other_manager")
    Membership.objects.create(
        project=other, user=users["other_manager"], role="manager"
    )
    users["staff"] = UserFactory(username="staff", is_staff=True)
    return project, users


def outcome(call):
    try:
        call()
    except Http404:
        return 404
    except PermissionDenied:
        return 403
    return 200


def test_the_coders_one_query_check_agrees_with_the_orm(world):
    project, users = world
    for name, user in users.items():
        visible = access.visible_projects(user).filter(pk=project.pk).first()
        orm = outcome(lambda u=user: access.project_for(u, project.pk, Can.CODE))
        sql = outcome(lambda u=user: access.coding_project(u, project.pk))
        assert orm == sql, name
        assert (visible is None) == (sql == 404), name
        if sql == 200:
            coding = access.coding_project(user, project.pk)
            assert coding.user_role == visible.user_role == "coder"
            assert coding.n_coders == 1


def test_own_assignment_is_only_the_coders_own(world):
    project, users = world
    assignment = claim_next_span(project=project, coder=users["coder"])
    expected = {
        "coder": 200,
        "reviewer": 403,
        "manager": 403,
        "other_coder": 404,
        "other_manager": 404,
        "staff": 403,  # staff see the project but code in none
    }
    for name, user in users.items():
        got = outcome(lambda u=user: access.own_assignment(u, assignment.pk))
        assert got == expected[name], name


def test_a_posted_assignment_is_found_only_in_its_own_project(world):
    project, users = world
    coder = users["coder"]
    assignment = claim_next_span(project=project, coder=coder)
    found = access.coding_project_and_assignment(coder, project.pk, assignment.pk)[1]
    assert found.pk == assignment.pk and found.codebook_id == project.codebook_id
    for posted in ("", "x", None, assignment.pk + 999):
        assert (
            access.coding_project_and_assignment(coder, project.pk, posted)[1] is None
        )
    elsewhere = make_project(documents=1, spans_per_document=1)
    Membership.objects.create(project=elsewhere, user=coder, role="coder")
    assert (
        access.coding_project_and_assignment(coder, elsewhere.pk, assignment.pk)[1]
        is None
    )
