"""Accounts: the login page (and the first-run form), deactivating members."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotator import access, access_people
from annotator.forms_people import AccountForm
from annotator.services.people import create_first_manager, set_active
from annotator.views.base import HtmxHttpRequest, see_other


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
            form.add_service_errors(error)
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
    messages.success(
        request,
        f"Reactivated {name}: they can log in again."
        if active
        else f"Deactivated {name}: they can no longer log in; their annotations stay "
        "and the spans they held go back to the other coders.",
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
