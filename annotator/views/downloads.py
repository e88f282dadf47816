"""The project's downloads page: the export API's files chosen in a form, without JS.

The files are the export API's (annotator/api/export.py, streamed from
annotator/exporting/): a valid form answers 303 to the API's URL with the same
filters, so the page, the API and `manage.py export_gold` send the same rows
from the same code. The agreement report as CSV is written here, from the rows
agreement_report.report_rows() makes of the report the page and the API show.
Reviewers and managers (and staff) only, as the API.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement_report import (
    TABLE_COLUMNS,
    ReportRequestError,
    report_request,
    report_rows,
)
from annotator.exporting.writers import csv_chunks
from annotator.services import agreement_jobs
from annotator.views.base import (
    HtmxHttpRequest,
    download_form,
    downloads_context,
    see_other,
)

REFUSAL = (
    "Only the project's reviewers and managers download its codes: coders code blind."
)
FILES = {
    ("gold", "csv"): "api-gold-csv",
    ("gold", "jsonl"): "api-gold-jsonl",
    ("annotations", "csv"): "api-annotations-csv",
    ("annotations", "jsonl"): "api-annotations-jsonl",
}


@access.login_required
@require_GET
def project_downloads(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Without a choice: the downloads. With one: 303 to the file, or the form
    again with what is wrong (400)."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    chosen = "what" in request.GET
    form = download_form(project, request.GET if chosen else None)
    if chosen and form.is_valid():
        data = form.cleaned_data
        url = reverse(FILES[data["what"], data["format"]], args=[project.pk])
        query = form.api_query()
        return see_other(request, url + (f"?{urlencode(query)}" if query else ""))
    context = {"project": project, **downloads_context(request, project, form)}
    return render(
        request,
        "annotator/project_downloads.html",
        context,
        status=400 if chosen else 200,
    )


@access.login_required
@require_GET
def agreement_csv(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The agreement report as CSV, every document, one row per coefficient
    (agreement_report.table): of the project's codebook version, or `?version=N`'s,
    trend by `over` and `batch_size` as the dashboard and the API take them."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    try:
        options, codebook = report_request(project, request.GET)
    except ReportRequestError as error:
        return HttpResponse(
            error.message, status=error.status, content_type="text/plain"
        )
    report, _status = agreement_jobs.report_with_intervals(
        project,
        by=request.user,
        codebook=codebook,
        over=options.over,
        batch_size=options.batch_size,
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="project-{project.pk}-agreement-'
        f'v{report.codebook_version}.csv"'
    )
    # The exports' writer: a title or label that a spreadsheet would run as a
    # formula is quoted, as in gold.csv.
    response.content = "".join(csv_chunks(report_rows(report), TABLE_COLUMNS))
    return response
