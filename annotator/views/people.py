"""Accounts: login (and the first-run form), password reset, deactivating members."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotator import access, access_people
from annotator.auth_backends import client_address
from annotator.forms_people import AccountForm
from annotator.models import Assignment
from annotator.services.password_resets import email_digest, reset_allowed
from annotator.services.people import create_first_manager, set_active
from annotator.views.base import HtmxHttpRequest, add_service_errors, see_other

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """Django's login page, which on a site without any account yet offers the
    first-run form instead (nobody could log in)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # On a GET only: a login sent gets Django's answer (the throttle counts it).
        context["first_run"] = (
            self.request.method == "GET" and not get_user_model().objects.exists()
        )
        return context


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset page under a rate limit (services/password_resets.py).

    A request over the limit gets the answer every request gets, the "sent"
    page, as Django's view answers alike for addresses with and without an
    account: the limit tells nobody whether an address exists. It only sends
    nothing, and the log says so.
    """

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        client_ip = client_address(self.request)
        if reset_allowed(email=email, client_ip=client_ip):
            return super().form_valid(form)
        # The address's digest, as the limit's table keeps it: the log holds no
        # address a reader could recover either.
        logger.warning(
            "Password reset rate limited: no email sent to address %s… "
            "(request from %s).",
            email_digest(email)[:16],
            client_ip,
        )
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
def first_run(request: HtmxHttpRequest) -> HttpResponse:
    """Create the first manager; 404 once the site has any account."""
    access_people.first_run_or_404()
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = create_first_manager(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
            )
        except ValidationError as error:
            access_people.first_run_or_404()  # someone else was first
            add_service_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user.get_username()}: you manage this site. Import a "
                "corpus, create a project, then invite people from its members page.",
            )
            return see_other(request, reverse("home"))
    return render(request, "registration/first_run.html", {"form": form})


def switch(request: HtmxHttpRequest, project_id: int, member_id: int, active: bool):
    member = access_people.member_to_switch(request.user, project_id, member_id)
    set_active(user=member, active=active)
    name = member.get_username()
    waiting = (
        0
        if active
        else Assignment.objects.filter(
            project_id=project_id, coder=member, status=Assignment.Status.RECODE
        ).count()
    )
    messages.success(
        request,
        f"Reactivated {name}: they can log in again."
        if active
        else f"Deactivated {name}: they can no longer log in; their annotations stay "
        "and the spans they held go back to the other coders."
        + (
            f" Spans still waiting for them to code again (their own codes): "
            f"{waiting}; remove them from the project to hand these to other "
            "coders."
            if waiting
            else ""
        ),
    )
    return see_other(request, reverse("project-members", args=[project_id]))


@access.login_required
@require_POST
def deactivate(request: HtmxHttpRequest, project_id: int, member_id: int):
    """Switch a member's account off (access_people.DEACTIVATION_RULE)."""
    return switch(request, project_id, member_id, active=False)


@access.login_required
@require_POST
def reactivate(request: HtmxHttpRequest, project_id: int, member_id: int):
    return switch(request, project_id, member_id, active=True)
