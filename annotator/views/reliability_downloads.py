"""The reliability report's downloads: print HTML, PDF, Markdown, LaTeX and the bundle.

Reviewers, managers and staff (coders code blind: 403). The query parameters
are the report page's: ``?version=N``, ``?primary=NAME`` (and
``?primary.<key>=NAME``), ``?unit=paragraphs``; a bad one answers 400 naming
it, a codebook version never had 404 ("No version 99 of this project's
codebook."). While a background job computes the intervals every download answers 409,
so no file carries an interval from older data; without Pango the PDF answers
503 with the apt line and the other formats still work. The files are
``agreement_report.print_formats``' (the ``reliability_report`` command's too).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from annotator import access
from annotator.agreement_report import ReportRequestError
from annotator.agreement_report.pdf import PangoMissing, check_pango
from annotator.agreement_report.print_formats import FORMATS, filename
from annotator.agreement_report.reliability import (
    ReliabilityReport,
    reliability_report,
    reliability_request,
)
from annotator.views.base import HtmxHttpRequest

REFUSAL = "Coders code blind: the reliability report is for reviewers and managers."


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )


def report_for(request: HtmxHttpRequest, project) -> ReliabilityReport | HttpResponse:
    """The report the query asks for, or the answer saying what is wrong with it."""
    try:
        codebook, primary, unit_noun = reliability_request(project, request.GET)
    except ReportRequestError as error:
        return _text(error.message, error.status)
    return reliability_report(
        project,
        codebook=codebook,
        primary=primary,
        unit_noun=unit_noun,
        by=request.user,
    )


def stale_refusal(report: ReliabilityReport) -> str:
    """Why a download waits while the intervals are not of the data shown."""
    if report.codebook.pk != report.project.codebook_id:
        return (
            f"The intervals of codebook version {report.codebook.version} are not "
            "computed for a project this large (background jobs compute the "
            "project's own version only): download that version's report."
        )
    progress = report.intervals_progress or "not yet started"
    return (
        f"The intervals are being computed ({progress}); "
        "download when they are current."
    )


def _download(request: HtmxHttpRequest, project_id: int, name: str) -> HttpResponse:
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    try:
        if name == "pdf":
            check_pango()  # before the report's work, which would be for nothing
        report = report_for(request, project)
        if isinstance(report, HttpResponse):
            return report
        if not report.intervals_current:
            return _text(stale_refusal(report), 409)
        body = FORMATS[name].render(report)
    except PangoMissing as error:
        return _text(str(error), 503)
    response = HttpResponse(body, content_type=FORMATS[name].content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename(report, name)}"'
    return response


@access.login_required
@require_GET
def report_html(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The print-ready page, self-contained, as an attachment."""
    return _download(request, project_id, "html")


@access.login_required
@require_GET
def report_pdf(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The print page through WeasyPrint."""
    return _download(request, project_id, "pdf")


@access.login_required
@require_GET
def tables_md(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The tables, methods paragraph and references as Markdown."""
    return _download(request, project_id, "md")


@access.login_required
@require_GET
def tables_tex(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The tables (booktabs, tabularx), methods paragraph and references as LaTeX."""
    return _download(request, project_id, "tex")


@access.login_required
@require_GET
def replication_zip(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The replication bundle: ratings, codebook, expected figures, replicate.py."""
    return _download(request, project_id, "zip")
