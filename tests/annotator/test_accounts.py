"""Accounts: createmanager, the first-run page, password reset and change, and
deactivating members (the rule, login refused, annotations kept)."""

from __future__ import annotations

import re
import threading
from importlib import import_module
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator import access_people
from annotator.access import MANAGERS_GROUP
from annotator.demo import managers_group
from annotator.models import Annotation, Assignment
from annotator.services import claim_next_span, set_membership, submit_annotation
from annotator.services.people import set_active
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "plum-orchard-lantern-42"


# --- roles from migrate; the first manager --------------------------------------------


@pytest.fixture(autouse=True)
def the_managers_group(db):
    """As migrate left it (a transactional test elsewhere may have flushed it)."""
    return managers_group()


def test_migrate_alone_creates_the_managers_group():
    """What migration 0002 runs (a transactional test's flush may have removed the
    row the test database's migrate made, so it is run again here)."""
    from django.apps import apps

    migration = import_module("annotator.migrations.0002_managers_group")
    Group.objects.filter(name=MANAGERS_GROUP).delete()
    migration.create_managers(apps, None)
    group = Group.objects.get(name=MANAGERS_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_corpus", "add_document"} <= codenames


def test_createmanager_with_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("MANAGER_PW", NEW_PASSWORD)
    out = StringIO()
    call_command(
        "createmanager", "alice", email="alice@example.org",
        password_from_env="MANAGER_PW", stdout=out,
    )  # fmt: skip
    assert "Created the manager alice" in out.getvalue()
    alice = User.objects.get(username="alice")
    assert alice.check_password(NEW_PASSWORD) and alice.email == "alice@example.org"
    assert alice.groups.filter(name=MANAGERS_GROUP).exists() and not alice.is_staff


def test_createmanager_prompts_on_a_terminal(monkeypatch):
    answers = iter([NEW_PASSWORD, NEW_PASSWORD])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    call_command("createmanager", "bob", stdout=StringIO())
    assert User.objects.get(username="bob").check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    "env, args, message",
    [
        ({}, {"password_from_env": "NOPE"}, "NOPE: that variable is not set"),
        ({"PW": "123"}, {"password_from_env": "PW"}, "password: This password is too"),
        ({"PW": NEW_PASSWORD}, {"password_from_env": "PW", "email": "x@"}, "email:"),
        ({"PW": NEW_PASSWORD}, {"password_from_env": "PW", "username": "ann"}, "taken"),
        ({}, {}, "No terminal to ask the password on"),
    ],
)
def test_createmanager_says_what_is_wrong(monkeypatch, env, args, message):
    UserFactory(username="Ann")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    username = args.pop("username", "carol")
    with pytest.raises(CommandError, match=message):
        call_command("createmanager", username, stdout=StringIO(), **args)
    assert not User.objects.filter(username=username).exclude(username="Ann").exists()


def first_manager_form(**changes):
    return {
        "username": "first", "email": "first@example.org",
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **changes,
    }  # fmt: skip


def test_the_first_run_page_creates_the_first_manager(client):
    login = client.get(reverse("home"), follow=True)
    assert login.redirect_chain[-1][0].startswith(reverse("login"))
    assert reverse("first-run").encode() in login.content
    assert b'name="password"' not in login.content
    page = client.get(reverse("first-run"))
    assert page.status_code == 200 and b"Create the manager" in page.content
    differ = client.post(reverse("first-run"), first_manager_form(password2="x"))
    assert b"The two passwords differ" in differ.content
    weak = client.post(
        reverse("first-run"), first_manager_form(password1="123", password2="123")
    )
    assert b"too short" in weak.content and not User.objects.exists()
    response = client.post(reverse("first-run"), first_manager_form())
    assert response.status_code == 303
    first = User.objects.get()
    assert first.groups.filter(name=MANAGERS_GROUP).exists()
    assert client.get(reverse("project-create")).status_code == 200  # logged in
    # Gone once an account exists: for anyone, and for a second form sent late.
    assert client.get(reverse("first-run")).status_code == 404
    late = Client().post(reverse("first-run"), first_manager_form(username="second"))
    assert late.status_code == 404
    login = Client().get(reverse("login"))
    assert b'name="password"' in login.content
    assert reverse("first-run").encode() not in login.content
    assert User.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_run_forms_at_once_make_one_account():
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send(username: str) -> None:
        try:
            barrier.wait()
            response = Client().post(
                reverse("first-run"), first_manager_form(username=username)
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 404]
    assert User.objects.count() == 1


def test_the_service_refuses_a_second_first_manager():
    from annotator.services.people import create_first_manager

    create_first_manager(username="a", email="", password=NEW_PASSWORD)
    with pytest.raises(Exception, match="already has an account"):
        create_first_manager(username="b", email="", password=NEW_PASSWORD)


# --- passwords -----------------------------------------------------------------------


def test_password_reset_by_email():
    UserFactory(username="ann")
    client = Client()
    login = client.get(reverse("login"))
    assert reverse("password-reset").encode() in login.content
    assert b"Forgot your password?" in login.content
    response = client.post(reverse("password-reset"), {"email": "ann@example.org"})
    assert response["Location"] == reverse("password-reset-done")
    (message,) = mail.outbox
    assert message.to == ["ann@example.org"] and "ann" in message.body
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", message.body)[1]
    form = client.get(link, follow=True)
    assert b"Set a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done["Location"] == reverse("password-reset-complete")
    assert User.objects.get(username="ann").check_password(NEW_PASSWORD)
    used = client.get(link, follow=True)
    assert b"This link does not work" in used.content
    # No email for an address without an account, and the same answer.
    other = client.post(reverse("password-reset"), {"email": "nobody@example.org"})
    assert other["Location"] == reverse("password-reset-done") and len(mail.outbox) == 1


def test_password_change_from_the_header():
    ann = UserFactory(username="ann")
    client = Client()
    client.force_login(ann)
    home = client.get(reverse("home"))
    assert reverse("password-change").encode() in home.content
    wrong = client.post(
        reverse("password-change"),
        {"old_password": "nope", "new_password1": NEW_PASSWORD,
         "new_password2": NEW_PASSWORD},
    )  # fmt: skip
    assert wrong.status_code == 200 and b"old password was entered incorrectly" in (
        wrong.content
    )
    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
         "new_password2": NEW_PASSWORD},
    )  # fmt: skip
    assert response["Location"] == reverse("password-change-done")
    assert client.get(reverse("home")).status_code == 200  # still logged in
    assert Client().login(username="ann", password=NEW_PASSWORD)
    assert Client().get(reverse("password-change")).status_code == 302


def test_the_login_throttle_still_locks_out(settings):
    UserFactory(username="ann")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ann", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "ann", "password": PASSWORD})
    assert locked.status_code == 429


# --- deactivation --------------------------------------------------------------------


@pytest.fixture
def project(manager):
    return make_project(
        documents=1, spans_per_document=3, coders=["ann", "bob"], manager=manager
    )


def switch_url(project, user, what="deactivate"):
    return reverse(f"project-member-{what}", args=[project.pk, user.pk])


def test_a_deactivated_coder_keeps_their_annotations_but_cannot_log_in(
    project, manager
):
    ann = User.objects.get(username="ann")
    assignment = claim_next_span(project=project, coder=ann)
    submit_annotation(
        coder=ann, assignment=assignment, labels={"topic": "arms", "stance": "neutral"}
    )
    signed_in = Client()
    signed_in.force_login(ann)
    token = Token.objects.create(user=ann).key
    api = reverse("api-project-list")
    assert Client().get(api, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    client = Client()
    client.force_login(manager)
    response = client.post(switch_url(project, ann))
    assert response.status_code == 303
    assert response["Location"] == reverse("project-members", args=[project.pk])
    ann.refresh_from_db()
    assert not ann.is_active
    assert Annotation.objects.filter(assignment__coder=ann).count() == 1
    assert project.role_of(ann) == "coder"
    assert not Client().login(username="ann", password=PASSWORD)
    refused = Client().post(reverse("login"), {"username": "ann", "password": PASSWORD})
    assert refused.status_code == 200 and b"didn't match" in refused.content
    assert signed_in.get(reverse("home")).status_code == 302  # the session is over
    assert Client().get(api, HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    page = client.get(reverse("project-members", args=[project.pk])).content.decode()
    assert "deactivated" in page and "Reactivate account" in page
    client.post(switch_url(project, ann, "reactivate"))
    assert Client().login(username="ann", password=PASSWORD)


def test_who_may_deactivate_whom(project, manager):
    ann, bob = User.objects.get(username="ann"), User.objects.get(username="bob")
    co_manager = UserFactory(username="co")
    set_membership(project=project, user=co_manager, role="manager")
    in_group = UserFactory(username="grouped")
    in_group.groups.add(managers_group())
    set_membership(project=project, user=in_group, role="coder")
    elsewhere = make_project(documents=1, spans_per_document=1, coders=["bob"])
    staff = UserFactory(username="staff", is_staff=True)
    set_membership(project=project, user=staff, role="reviewer")
    members = User.objects.filter(memberships__project=project)
    mine = set(access_people.deactivatable(manager, members))
    # bob codes in another project too; co manages; grouped is a manager; staff.
    assert mine == {ann}
    assert set(access_people.deactivatable(staff, members)) == {
        ann, bob, co_manager, in_group, manager
    }  # fmt: skip
    assert not access_people.deactivatable(ann, members).exists()
    client = Client()
    client.force_login(manager)
    for refused in (bob, co_manager, in_group, staff, manager):
        response = client.post(switch_url(project, refused))
        assert response.status_code == 403, refused
        assert b"every project it belongs to" in response.content
    # A project they do not manage (404), someone who is not a member (404).
    assert client.post(switch_url(elsewhere, bob)).status_code == 404
    stranger = UserFactory(username="stranger")
    assert client.post(switch_url(project, stranger)).status_code == 404
    coder = Client()
    coder.force_login(ann)
    assert coder.post(switch_url(project, bob)).status_code == 403
    assert User.objects.filter(is_active=False).count() == 0
    page = client.get(reverse("project-members", args=[project.pk])).content.decode()
    assert page.count("Deactivate account") == 1


def test_the_members_page_reads_in_a_fixed_number_of_queries(
    project, manager, django_assert_max_num_queries
):
    for n in range(5):
        set_membership(
            project=project, user=UserFactory(username=f"c{n}"), role="coder"
        )
    client = Client()
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("project-members", args=[project.pk]))
    assert response.status_code == 200


def test_deactivating_a_coder_releases_their_claims_in_every_project_at_once():
    """Bob gets the span ann held (her lease far from over); her submitted work
    stays; a span she had to code again stays hers, waiting for her."""
    one = make_project(
        documents=1, spans_per_document=2, coders=["ann", "bob"], coders_per_span=1
    )
    two = make_project(
        documents=1, spans_per_document=1, coders=["cyd"], coders_per_span=1
    )
    ann, bob, cyd = (User.objects.get(username=n) for n in ("ann", "bob", "cyd"))
    set_membership(project=two, user=ann, role="coder")
    labels = {"topic": "arms", "stance": "neutral"}
    done = claim_next_span(project=one, coder=ann)
    submit_annotation(coder=ann, assignment=done, labels=labels)
    held = claim_next_span(project=one, coder=ann)
    assert claim_next_span(project=one, coder=bob) is None  # ann holds the last span
    coded = claim_next_span(project=two, coder=ann)
    submit_annotation(coder=ann, assignment=coded, labels=labels)
    # As a codebook move marks it: coded, to be coded again by ann.
    Assignment.objects.filter(pk=coded.pk).update(status=Assignment.Status.RECODE)
    recode = claim_next_span(project=two, coder=ann)
    assert recode.pk == coded.pk and recode.status == Assignment.Status.CLAIMED

    set_active(user=ann, active=False)

    released = Assignment.objects.get(pk=held.pk)
    assert released.status == Assignment.Status.EXPIRED
    taken = claim_next_span(project=one, coder=bob)
    assert taken is not None and taken.span_id == held.span_id
    done = Assignment.objects.get(pk=done.pk)
    assert done.status == Assignment.Status.COMPLETED
    assert done.annotation.labels.count() == 2
    recode = Assignment.objects.get(pk=recode.pk)
    assert recode.status == Assignment.Status.RECODE and recode.annotation
    assert claim_next_span(project=two, coder=cyd) is None  # still ann's place


def test_deactivating_says_which_spans_to_code_again_still_wait(manager):
    """A span to code again stays its coder's when they are deactivated (they may
    come back): the manager is told how many, and how to hand them on."""
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann"], manager=manager
    )
    ann = User.objects.get(username="ann")
    coded = claim_next_span(project=project, coder=ann)
    submit_annotation(
        coder=ann, assignment=coded, labels={"topic": "arms", "stance": "neutral"}
    )
    Assignment.objects.filter(pk=coded.pk).update(status=Assignment.Status.RECODE)
    client = Client()
    client.force_login(manager)
    page = client.post(switch_url(project, ann), follow=True).content.decode()
    assert (
        "Spans still waiting for them to code again (their own codes): 1; remove "
        "them from the project to hand these to other coders." in page
    )


def test_deactivating_in_the_django_admin_releases_the_claims_too(project):
    """Staff may untick "active" on the admin's user page: the account's claims
    return to the pool at once, as when a manager deactivates it (set_active)."""
    from annotator.models import Assignment

    ann = User.objects.get(username="ann")
    held = claim_next_span(project=project, coder=ann)
    client = Client()
    client.force_login(User.objects.create_superuser("root", "r@example.org", "pw"))
    url = reverse("admin:auth_user_change", args=[ann.pk])
    form = {
        "username": ann.username,
        "password": ann.password,
        "email": ann.email,
        "date_joined_0": ann.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": ann.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": ann.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": ann.date_joined.strftime("%H:%M:%S"),
    }  # is_active left out: unticked
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    ann.refresh_from_db()
    assert not ann.is_active
    assert Assignment.objects.get(pk=held.pk).status == Assignment.Status.EXPIRED
