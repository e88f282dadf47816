"""Archive and restore pages: queue a project's archive, download it, restore one.

The work runs in a worker (annotator/services/archive_jobs.py); each request
queues it and answers with the job's page, or streams what the job made.
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator import access
from annotator.forms import ArchiveRestoreForm
from annotator.services import job_files
from annotator.services.archive_jobs import request_archive, request_restore
from annotator.views.base import HtmxHttpRequest, partial, see_other

RESTORE_REFUSAL = "Only users who may create projects restore them."


@access.login_required
@require_POST
def queue_archive(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A manager asks for the project's archive; the answer is the job's page."""
    project = access.project_jobs(request.user, project_id)
    job = request_archive(project, by=request.user)
    return see_other(request, reverse("job-detail", args=[job.pk]))


@access.login_required
@require_GET
def archive_download(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """The archive a job made, streamed from its stored chunks."""
    archive = access.archive_of(request.user, job_id)
    response = StreamingHttpResponse(
        job_files.chunks(archive), content_type="application/gzip"
    )
    response["Content-Length"] = str(archive.size)
    response["Content-Disposition"] = content_disposition_header(True, archive.name)
    return response


@access.login_required
@access.requires(access.can_create_projects, RESTORE_REFUSAL)
@require_http_methods(["GET", "POST"])
def project_restore(request: HtmxHttpRequest) -> HttpResponse:
    """Upload an archive: it is stored and a worker restores it (all or
    nothing); the answer is the job's page, which links the new project."""
    posted = request.method == "POST"  # an empty post is bound: "required"
    form = ArchiveRestoreForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid():
        job = request_restore(upload=form.cleaned_data["archive"], by=request.user)
        return see_other(request, reverse("job-detail", args=[job.pk]))
    return render(
        request,
        partial(request, "annotator/project_restore.html", "restore-form"),
        {"form": form},
    )
