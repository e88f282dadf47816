"""Codebook versions: what changed between two, and moving a project to a newer one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.codebook_forms import CodebookMoveForm
from annotator.codebooks import version_changes
from annotator.models import Codebook, Job, JobKind
from annotator.services.codebook_move import MovePlan, preview_move
from annotator.services.codebook_move_jobs import request_codebook_move
from annotator.views.base import (
    HtmxHttpRequest,
    add_service_errors,
    partial,
    see_other,
)

CHANGES = "annotator/codebook_changes.html"
MOVE = "annotator/project_codebook.html"
REFUSAL = "Only the project's managers can move it to another codebook version."
NOT_A_MANAGER = "Only managers and staff compare codebook versions."


def _version(family: str, version: int) -> Codebook:
    codebook = Codebook.objects.filter(family=family, version=version).first()
    if codebook is None:
        raise Http404(f"No version {version} of codebook {family}.")
    return codebook


@access.login_required
@access.requires(access.can_create_projects, NOT_A_MANAGER)
@require_GET
def codebook_changes_page(
    request: HtmxHttpRequest, family: str, old: int, new: int
) -> HttpResponse:
    """What changed from version ``old`` to version ``new`` of a family, in words,
    and which categories' codes a project moving across must have made again."""
    context = version_changes(_version(family, old), _version(family, new))
    return render(request, partial(request, CHANGES, "changes"), context)


def _project(request: HtmxHttpRequest, project_id: int):
    return access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )


def _form(request: HtmxHttpRequest, project) -> CodebookMoveForm:
    newer = Codebook.objects.filter(
        family=project.codebook.family, version__gt=project.codebook.version
    ).order_by("version")
    return CodebookMoveForm(request.POST or None, versions=newer)


def _target(project, form: CodebookMoveForm) -> Codebook:
    return _version(project.codebook.family, form.cleaned_data["version"])


def _render(
    request: HtmxHttpRequest,
    project,
    form: CodebookMoveForm,
    plan: MovePlan | None = None,
    *,
    part: str = "move-form",
    previewing: bool = False,
) -> HttpResponse:
    context = {
        "project": project,
        "codebook": project.codebook,
        "form": form,
        "plan": plan,
        "previewing": previewing,
        # Running, else waiting, else the last finished: the page says it, and
        # polls while it waits or runs.
        "move_job": Job.objects.latest_of(project, JobKind.CODEBOOK_MOVE),
        "changes_url": plan
        and reverse(
            "codebook-changes",
            args=[plan.new.family, plan.old.version, plan.new.version],
        ),
    }
    return render(request, partial(request, MOVE, part), context)


@access.login_required
@require_http_methods(["GET", "POST"])
def project_codebook(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The project's codebook version, the newer ones and its move in progress;
    POST queues a move (a worker makes it) and answers with the job's page."""
    project = _project(request, project_id)
    form = _form(request, project)
    if request.method == "POST" and form.is_valid():
        try:
            job = request_codebook_move(
                project=project, new=_target(project, form), by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return see_other(request, reverse("job-detail", args=[job.pk]))
    return _render(request, project, form)


@access.login_required
@require_POST
def project_codebook_preview(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """What the move would do, nothing written: the preview partial for htmx,
    the page with the preview without JavaScript."""
    project = _project(request, project_id)
    form = _form(request, project)
    plan = None
    if form.is_valid():
        try:
            plan = preview_move(project, _target(project, form))
        except ValidationError as error:
            add_service_errors(form, error)
    return _render(request, project, form, plan, part="move-preview", previewing=True)
