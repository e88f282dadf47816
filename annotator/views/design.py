"""The design page: k, the sample, the lease, the coders and active learning."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotator import access, access_people
from annotator.forms import DesignForm
from annotator.machine_forms import options_context
from annotator.services import change_design, preview_design
from annotator.services.active_learning import periods, switch_active_learning
from annotator.services.design import DesignEffect, design_problem, n_coders
from annotator.views.base import (
    HtmxHttpRequest,
    add_service_errors,
    partial,
    see_other,
)

REFUSAL = "Only the project's managers can change its design."
HISTORY = 50


def _project(request: HtmxHttpRequest, project_id: int):
    return access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )


def _render(
    request: HtmxHttpRequest,
    project,
    form: DesignForm,
    effect: DesignEffect | None = None,
    *,
    part: str = "design-form",
    previewing: bool = False,
) -> HttpResponse:
    coders = n_coders(project)
    context = {
        "project": project,
        "form": form,
        "effect": effect,
        "previewing": previewing,
        "n_coders": coders,
        "problem": design_problem(project.coders_per_span, coders),
        "history": project.design_changes.select_related("changed_by")[:HISTORY],
        "active_learning_periods": periods(project),
        **options_context(project),  # the machine coder's options, a form apart
    }
    return render(
        request, partial(request, "annotator/project_design.html", part), context
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_design(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Show the design and its history; POST applies a change (303 back here)."""
    project = _project(request, project_id)
    form = DesignForm(
        request.POST or None,
        project=project,
        users=access_people.addable_users(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            change = change_design(project, by=request.user, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Design changed: {change.summary}")
            return see_other(request, reverse("project-design", args=[project.pk]))
    return _render(request, project, form)


@login_required
@require_POST
def project_design_preview(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """What the posted change would do, nothing written: the preview partial for
    htmx, the design page with the preview without JavaScript."""
    project = _project(request, project_id)
    form = DesignForm(
        request.POST, project=project, users=access_people.addable_users(request.user)
    )
    effect = None
    if form.is_valid():
        try:
            effect = preview_design(project, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
    return _render(
        request, project, form, effect, part="design-preview", previewing=True
    )


@login_required
@require_POST
def project_active_learning(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Switch active learning on (``active_learning=on``) or off (anything else),
    then back to the design page (303; a client redirect for htmx), which says
    what changed or why nothing did."""
    project = _project(request, project_id)
    on = request.POST.get("active_learning") == "on"
    try:
        change = switch_active_learning(project, on, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, change.summary)
    return see_other(request, reverse("project-design", args=[project.pk]))
