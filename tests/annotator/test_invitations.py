"""Invitations: invite by email, the link (expiry, reuse, tampering, revocation),
a new account or an existing one joining, two accepts of one link."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotator.models import Invitation, Membership
from annotator.services import invitations, set_membership
from tests.factories import PASSWORD, UserFactory, make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "plum-orchard-lantern-42"


@pytest.fixture
def project(manager):
    project = make_project(documents=1, spans_per_document=2, coders=["ann"])
    set_membership(project=project, user=manager, role="manager")
    return project


@pytest.fixture
def as_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


def invite_url(project):
    return reverse("project-invitations", args=[project.pk])


def emailed_link(index: int = -1) -> str:
    """The path of the invitation link in an email of the outbox."""
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", mail.outbox[index].body)[1]


def invite(as_manager, project, email="new.person@example.org", role="coder"):
    response = as_manager.post(invite_url(project), {"email": email, "role": role})
    assert response.status_code == 303, response.content
    return emailed_link()


def test_a_manager_invites_and_the_link_is_emailed(as_manager, project):
    response = as_manager.post(
        invite_url(project), {"email": "New.Person@Example.org", "role": "reviewer"}
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("project-members", args=[project.pk])
    (message,) = mail.outbox
    assert message.to == ["new.person@example.org"]
    assert project.name in message.subject
    assert "reviewer" in message.body and "7 days" in message.body
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new.person@example.org", "reviewer")
    page = as_manager.get(reverse("project-members", args=[project.pk]))
    assert "new.person@example.org" in page.content.decode()


def test_the_invitations_section_full_page_and_partial(as_manager, project):
    invite(as_manager, project)
    full = as_manager.get(invite_url(project))
    assert full.status_code == 200
    assert b"<html" in full.content and b"new.person@example.org" in full.content
    part = as_manager.get(invite_url(project), headers=HTMX)
    assert b"<html" not in part.content and b'id="invitations"' in part.content
    posted = as_manager.post(
        invite_url(project), {"email": "x@example.org", "role": "coder"}, headers=HTMX
    )
    assert posted.status_code == 200 and b"<html" not in posted.content
    assert b"a link was emailed to x@example.org" in posted.content


def test_bad_invitations_are_refused_with_a_reason(as_manager, project):
    invite(as_manager, project)
    again = as_manager.post(
        invite_url(project), {"email": "new.person@example.org", "role": "coder"}
    )
    assert again.status_code == 200
    assert b"already has a pending invitation" in again.content
    member = as_manager.post(
        invite_url(project), {"email": "ann@example.org", "role": "coder"}
    )
    assert b"already a member" in member.content
    bad = as_manager.post(invite_url(project), {"email": "not-an-address", "role": "x"})
    assert b"valid email" in bad.content and b"not one of the available" in bad.content
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1


def test_a_new_person_accepts_with_a_new_account(as_manager, project):
    link = invite(as_manager, project, role="reviewer")
    invitee = Client()
    page = invitee.get(link)
    assert page.status_code == 200
    assert b'value="new.person"' in page.content  # the suggested username
    weak = invitee.post(
        link, {"username": "np", "password1": "123", "password2": "123"}
    )
    assert weak.status_code == 200 and b"too short" in weak.content
    assert not User.objects.filter(username="np").exists()
    response = invitee.post(
        link,
        {"username": "np", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert response["Location"] == project.get_absolute_url()
    user = User.objects.get(username="np")
    assert user.email == "new.person@example.org" and user.check_password(NEW_PASSWORD)
    assert project.role_of(user) == "reviewer"
    assert invitee.get(project.get_absolute_url()).status_code == 200  # logged in
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == user and invitation.accepted_at is not None


def test_the_suggested_username_is_free():
    UserFactory(username="ann")
    UserFactory(username="ann2")
    assert invitations.suggested_username("Ann@example.org") == "ann3"
    assert invitations.suggested_username("zed+x@example.org") == "zed+x"


def test_a_used_link_is_refused(as_manager, project):
    link = invite(as_manager, project)
    data = {"username": "np", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert Client().post(link, data).status_code == 303
    again = Client().post(link, {**data, "username": "np2"})
    assert again.status_code == 410
    assert b"already accepted" in again.content
    assert Client().get(link).status_code == 410
    assert not User.objects.filter(username="np2").exists()


def test_an_expired_link_is_refused_and_a_resend_renews_it(as_manager, project):
    link = invite(as_manager, project)
    days = 7 * 24 * 3600
    with mock.patch(
        "django.core.signing.time.time", return_value=time.time() + days - 60
    ):
        assert Client().get(link).status_code == 200  # a minute before the end
    later = time.time() + days + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        page = Client().get(link)
    assert page.status_code == 410
    assert b"expired" in page.content and b"send the invitation again" in page.content
    Invitation.objects.update(sent_at=timezone.now() - timedelta(days=8))
    listed = as_manager.get(invite_url(project)).content.decode()
    assert "expired" in listed
    invitation = Invitation.objects.get()
    as_manager.post(
        reverse("project-invitation-resend", args=[project.pk, invitation.pk])
    )
    assert len(mail.outbox) == 2
    renewed = emailed_link()
    part = as_manager.post(
        reverse("project-invitation-resend", args=[project.pk, invitation.pk]),
        headers=HTMX,
    )
    assert part.status_code == 200 and b"<html" not in part.content
    assert b"Sent again" in part.content and b"expired" not in part.content
    assert emailed_link() != renewed
    renewed = emailed_link()
    assert renewed != link
    replaced = Client().get(link)
    assert replaced.status_code == 410 and b"newer email" in replaced.content
    assert Client().get(renewed).status_code == 200


def test_the_validity_is_a_setting(as_manager, project, settings):
    settings.INVITATION_VALID_DAYS = 1
    link = invite(as_manager, project)
    assert "1 days" in mail.outbox[0].body
    later = time.time() + 2 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert Client().get(link).status_code == 410


@pytest.mark.parametrize(
    "change",
    [
        lambda link: link[:-3] + ("x/" if link[-2] != "x" else "y/"),  # signature
        lambda link: link.replace("/invitations/", "/invitations/9"),  # the id
        lambda link: "/invitations/garbage/",
    ],
)
def test_a_tampered_link_is_refused(as_manager, project, change):
    link = invite(as_manager, project)
    page = Client().get(change(link))
    assert page.status_code == 404
    assert b"not one we sent" in page.content
    data = {"username": "np", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    assert Client().post(change(link), data).status_code == 404
    assert not User.objects.filter(username="np").exists()


def test_a_revoked_link_is_refused(as_manager, project):
    link = invite(as_manager, project)
    invitation = Invitation.objects.get()
    revoke = reverse("project-invitation-revoke", args=[project.pk, invitation.pk])
    part = as_manager.post(revoke, headers=HTMX)
    assert part.status_code == 200 and b"<html" not in part.content
    assert b"Revoked the invitation" in part.content
    page = Client().get(link)
    assert page.status_code == 410 and b"withdrawn" in page.content
    again = as_manager.post(revoke)
    assert again.status_code == 303  # told it was already revoked
    # Revoked: a new invitation of the same address may be made.
    invite(as_manager, project)
    assert Invitation.objects.pending().count() == 1


def test_an_existing_account_logs_in_and_joins(as_manager, project):
    other = make_project(documents=1, spans_per_document=1, coders=["bea"])
    bea = User.objects.get(username="bea")
    link = invite(as_manager, project, email="BEA@example.org", role="reviewer")
    anonymous = Client().get(link)
    assert anonymous.status_code == 200
    assert b"already has an account" in anonymous.content
    assert reverse("login").encode() in anonymous.content
    assert b'name="password1"' not in anonymous.content  # no new account for her
    assert Client().post(link, {}).status_code == 403
    # Someone else logged in is told to log out.
    stranger = Client()
    stranger.force_login(UserFactory(username="stranger"))
    assert b"Log out, then open the link" in stranger.get(link).content
    assert stranger.post(link).status_code == 403
    # Bea logs in (the login page sends her back to the link) and joins.
    client = Client()
    login = client.post(
        reverse("login") + f"?next={link}",
        {"username": "bea", "password": PASSWORD, "next": link},
    )
    assert login["Location"] == link
    page = client.get(link)
    assert b"Join as bea" in page.content
    response = client.post(link)
    assert response.status_code == 303
    assert project.role_of(bea) == "reviewer" and other.role_of(bea) == "coder"
    assert Client().get(link).status_code == 410


def test_invitations_are_the_managers(project, as_manager):
    invite(as_manager, project)
    invitation = Invitation.objects.get()
    elsewhere = make_project(documents=1, spans_per_document=1, coders=["cy"])
    cy = User.objects.get(username="cy")
    set_membership(project=elsewhere, user=cy, role="manager")
    client = Client()
    client.force_login(cy)
    resend = reverse("project-invitation-resend", args=[project.pk, invitation.pk])
    assert client.post(resend).status_code == 404
    # Another project's id with this invitation: not found, nothing sent.
    wrong = reverse("project-invitation-resend", args=[elsewhere.pk, invitation.pk])
    assert client.post(wrong).status_code == 404
    assert len(mail.outbox) == 1


def test_a_failed_email_says_so(as_manager, project):
    with mock.patch(
        "annotator.services.invitations.send_mail", side_effect=OSError("no route")
    ):
        response = as_manager.post(
            invite_url(project), {"email": "z@example.org", "role": "coder"}
        )
    assert response.status_code == 303
    page = as_manager.get(reverse("project-members", args=[project.pk]))
    assert b"could not be sent (no route)" in page.content
    assert Invitation.objects.pending().count() == 1


def test_the_service_refuses_a_second_accept(project, manager):
    invitation = invitations.invite(
        project=project, email="q@example.org", role="coder", by=manager
    )
    invitations.accept_with_new_account(
        invitation=invitation, username="q", password=NEW_PASSWORD
    )
    with pytest.raises(Exception, match="already used or revoked"):
        invitations.accept_with_new_account(
            invitation=invitation, username="q2", password=NEW_PASSWORD
        )
    assert (
        Membership.objects.filter(project=project, user__email="q@example.org").count()
        == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accepts_of_one_link_make_one_membership(manager):
    project = make_project(documents=1, spans_per_document=1, coders=["ann"])
    set_membership(project=project, user=manager, role="manager")
    invitation = invitations.invite(
        project=project, email="race@example.org", role="coder", by=manager
    )
    token = invitations.link_token(invitation)
    link = reverse("invitation", args=[token])
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def accept(username: str) -> None:
        try:
            barrier.wait()
            response = Client().post(
                link,
                {"username": username, "password1": NEW_PASSWORD,
                 "password2": NEW_PASSWORD},
            )  # fmt: skip
            statuses.append(response.status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=accept, args=(n,)) for n in ("r1", "r2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 410]
    assert Membership.objects.filter(project=project, role="coder").count() == 2
    assert User.objects.filter(email="race@example.org").count() == 1


def test_the_admin_lists_invitations_without_their_key(as_manager, project):
    invite(as_manager, project)
    invitation = Invitation.objects.get()
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    listing = staff.get(reverse("admin:annotator_invitation_changelist"))
    assert listing.status_code == 200 and b"new.person@example.org" in listing.content
    page = staff.get(reverse("admin:annotator_invitation_change", args=[invitation.pk]))
    assert page.status_code == 200 and invitation.key.encode() not in page.content
