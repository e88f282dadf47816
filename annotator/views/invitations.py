"""Invitations: managers invite, resend and revoke; the invitee opens the link."""

from __future__ import annotations

from smtplib import SMTPException

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotator import access, access_people
from annotator.forms_people import InvitationForm, InviteeAccountForm
from annotator.models import Invitation, Project
from annotator.services import invitations
from annotator.services.invitations import LinkState
from annotator.views.base import (
    HtmxHttpRequest,
    add_service_errors,
    partial,
    see_other,
)

MANAGERS_INVITE = "Only the project's managers invite people."
# A link that does not work: 404 when it is none of ours, 410 when it was.
LINK_STATUS = {LinkState.TAMPERED: 404}


def deliver(request: HtmxHttpRequest, invitation: Invitation, done: str) -> str:
    """Email the invitation's link; what to tell the manager."""
    token = invitations.link_token(invitation)
    link = request.build_absolute_uri(reverse("invitation", args=[token]))
    try:
        invitations.send_invitation(invitation, link)
    except (SMTPException, OSError) as error:
        return (
            f"{done}, but the email to {invitation.email} could not be sent "
            f"({error}); try Resend later, or tell your administrator."
        )
    return f"{done}: a link was emailed to {invitation.email}."


def section(request: HtmxHttpRequest, project: Project, form=None, notice=""):
    """The invitations section alone (htmx) or as its own page."""
    return render(
        request,
        partial(request, "annotator/project_invitations.html", "invitations"),
        {
            "project": project,
            "invitations": project.invitations.pending().select_related("invited_by"),
            "invite_form": form or InvitationForm(),
            "invitation_notice": notice,
            "invitation_days": invitations.valid_for().days,
        },
    )


def done(request: HtmxHttpRequest, project: Project, notice: str) -> HttpResponse:
    """After a change: the section again (htmx), or back to the members page."""
    if request.htmx:
        return section(request, project, notice=notice)
    messages.success(request, notice)
    return see_other(request, reverse("project-members", args=[project.pk]))


@access.login_required
@require_http_methods(["GET", "POST"])
def project_invitations(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Pending invitations and the form to invite someone by email."""
    project = access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=MANAGERS_INVITE
    )
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite(
                project=project, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            what = f"Invited {invitation.email} as {invitation.role}"
            return done(request, project, deliver(request, invitation, what))
    return section(request, project, form)


@access.login_required
@require_POST
def invitation_resend(
    request: HtmxHttpRequest, project_id: int, invitation_id: int
) -> HttpResponse:
    """A new link (the old one stops working), valid for the full period again."""
    invitation = access_people.invitation_for(request.user, project_id, invitation_id)
    try:
        invitations.renew(invitation)
    except ValidationError as error:
        notice = " ".join(error.messages)
    else:
        notice = deliver(request, invitation, "Sent again")
    return done(request, invitation.project, notice)


@access.login_required
@require_POST
def invitation_revoke(
    request: HtmxHttpRequest, project_id: int, invitation_id: int
) -> HttpResponse:
    invitation = access_people.invitation_for(request.user, project_id, invitation_id)
    try:
        invitations.revoke(invitation)
    except ValidationError as error:
        notice = " ".join(error.messages)
    else:
        notice = (
            f"Revoked the invitation of {invitation.email}; its link no longer works."
        )
    return done(request, invitation.project, notice)


@require_http_methods(["GET", "POST"])
def accept(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The invitee's link: a new account, or their own account logged in, joins the
    project; a link that does not work says why and how to get a new one."""
    link = invitations.read_link(token)
    context = {"link": link, "days": invitations.valid_for().days}
    if link.state != LinkState.VALID:
        status = LINK_STATUS.get(link.state, 410)
        return render(request, "annotator/invitation.html", context, status=status)
    invitation = link.invitation
    account = invitations.existing_account(invitation)
    user = request.user
    is_invitee = user.is_authenticated and (user.email or "").lower() == (
        invitation.email
    )
    context.update(invitation=invitation, account=account, is_invitee=is_invitee)
    form = None
    if account is None and not user.is_authenticated:
        form = InviteeAccountForm(
            request.POST or None,
            initial={"username": invitations.suggested_username(invitation.email)},
        )
    context["form"] = form
    if request.method == "POST":
        try:
            if form is not None:
                if not form.is_valid():
                    return render(request, "annotator/invitation.html", context)
                user = invitations.accept_with_new_account(
                    invitation=invitation,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
                login(
                    request, user, backend="django.contrib.auth.backends.ModelBackend"
                )
            elif account is not None and is_invitee:
                invitations.accept_as(invitation=invitation, user=user)
            else:
                return render(request, "annotator/invitation.html", context, status=403)
        except ValidationError as error:
            if form is not None and hasattr(error, "error_dict"):
                add_service_errors(form, error)
                return render(request, "annotator/invitation.html", context)
            # Used or revoked while the page was open: say which.
            context["link"] = invitations.read_link(token)
            return render(request, "annotator/invitation.html", context, status=410)
        messages.success(
            request,
            f"Welcome to {invitation.project.name}: you are a {invitation.role}.",
        )
        return see_other(request, invitation.project.get_absolute_url())
    return render(request, "annotator/invitation.html", context)
