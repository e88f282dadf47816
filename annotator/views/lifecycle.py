"""Lifecycle pages: a manager closes or reopens a project, or clones it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from annotator import access, access_people
from annotator.forms import ProjectForm
from annotator.lifecycle_forms import LifecycleForm
from annotator.models import Assignment, Codebook
from annotator.services.lifecycle import (
    clone_design,
    clone_project,
    close_project,
    reopen_project,
)
from annotator.views.base import (
    HtmxHttpRequest,
    add_service_errors,
    partial,
    see_other,
)

REFUSAL = "Only the project's managers can close, reopen or clone it."


def _clone_form(request: HtmxHttpRequest, project) -> ProjectForm:
    """The new-project form, prefilled with the source's design and members; its
    corpus and codebook are the source's only."""
    design = clone_design(project)
    initial = {
        **design,
        "sample_share": round(design["sample_share"] * 100, 2),
        "gold_rules": ",".join(design["gold_methods"]),
        "gold_min_share": round(design["gold_min_share"] * 100, 2),
        "gold_min_posterior": round(design["gold_min_posterior"] * 100, 2),
        "coders": [u.pk for u, role in design["members"].items() if role == "coder"],
        "reviewers": [
            u.pk for u, role in design["members"].items() if role == "reviewer"
        ],
    }
    form = ProjectForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        corpora=access.visible_corpora(request.user).filter(pk=project.corpus_id),
        users=access_people.addable_users(request.user),
    )
    form.fields["codebook"].queryset = Codebook.objects.filter(pk=project.codebook_id)
    return form


@access.login_required
@require_http_methods(["GET", "POST"])
def project_lifecycle(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Whether the project is open, what closing or reopening does; POST does it
    (303 to the project page)."""
    project = access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )
    posted = request.method == "POST"  # an empty post is bound: "required"
    form = LifecycleForm(request.POST if posted else None, project=project)
    if posted and form.is_valid():
        try:
            if form.cleaned_data["action"] == "close":
                released = close_project(project)
                done = (
                    f"Closed '{project.name}': {released} open claim"
                    f"{'s' if released != 1 else ''} given back; every code stays."
                )
            else:
                reopen_project(project)
                done = f"Reopened '{project.name}': coders can claim spans again."
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return see_other(request, project.get_absolute_url())
    live = Assignment.objects.live().filter(project=project).count()
    return render(
        request,
        partial(request, "annotator/project_lifecycle.html", "lifecycle-form"),
        {"project": project, "form": form, "live_claims": live},
    )


@access.login_required
@require_http_methods(["GET", "POST"])
def project_clone(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A new project on the same corpus and codebook, its design prefilled from
    this one's; a new, empty queue."""
    project = access.project_to_clone(request.user, project_id)
    form = _clone_form(request, project)
    if request.method == "POST" and form.is_valid():
        try:
            clone = clone_project(project, by=request.user, **form.design())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Cloned '{project.name}' as '{clone.name}': "
                f"{clone.total_codings} codings to do.",
            )
            return see_other(request, clone.get_absolute_url())
    return render(
        request,
        partial(request, "annotator/project_clone.html", "clone-form"),
        {"project": project, "form": form},
    )
