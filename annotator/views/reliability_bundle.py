"""The reliability report's replication bundle (replication.zip), for reviewers."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement_report import ReportRequestError
from annotator.agreement_report.bundle import write_bundle
from annotator.agreement_report.reliability import (
    reliability_report,
    reliability_request,
)
from annotator.views.base import HtmxHttpRequest

REFUSAL = "Coders code blind: agreement is for reviewers and managers."


@access.login_required
@require_GET
def reliability_bundle(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The zip of ratings, codebook, expected figures and replicate.py; 409 while
    a background job is still computing the intervals it would hold."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    try:
        codebook, primary, unit_noun = reliability_request(project, request.GET)
    except ReportRequestError as error:
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain"
        )
    report = reliability_report(
        project,
        codebook=codebook,
        primary=primary,
        unit_noun=unit_noun,
        by=request.user,
    )
    if not report.intervals_current:
        return HttpResponse(
            "The intervals are still being computed"
            + (f" ({report.intervals_progress})" if report.intervals_progress else "")
            + "; download the bundle when they are done.",
            status=409,
            content_type="text/plain",
        )
    buffer = io.BytesIO()
    write_bundle(report, buffer)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    name = f"project-{project.pk}-v{codebook.version}-replication.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
