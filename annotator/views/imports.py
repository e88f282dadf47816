"""The codings import page: a manager uploads codings; a worker imports them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from annotator import access
from annotator.lifecycle_forms import CodingsImportForm
from annotator.models import Job, JobKind
from annotator.services.codings_import import request_codings_import
from annotator.upload_limits import CODINGS_IMPORT
from annotator.views.base import HtmxHttpRequest, partial, see_other

REFUSAL = "Only the project's managers import codings into it."


@access.login_required
@require_http_methods(["GET", "POST"])
def codings_import(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The upload form and the last import; a valid upload is stored and queued,
    and the answer is its job's page (progress, then the result or each error)."""
    project = access.project_for(
        request.user, project_id, access.Can.MANAGE, refusal=REFUSAL
    )
    posted = request.method == "POST"  # an empty post is bound: "required"
    form = CodingsImportForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    if posted and form.is_valid():
        try:
            job = request_codings_import(
                project=project, upload=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return see_other(request, reverse("job-detail", args=[job.pk]))
    return render(
        request,
        partial(request, "annotator/codings_import.html", "codings-import-form"),
        {
            "project": project,
            "form": form,
            "last": Job.objects.latest_of(project, JobKind.CODINGS_IMPORT),
            "upload_limit": CODINGS_IMPORT.limit,
        },
    )
