"""The reviewers' coders pages: every coder's training and checks, and one coder's."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator import access
from annotator.training.coders import coder_reports
from annotator.views.base import HtmxHttpRequest, heat, partial

REFUSAL = "Coders code blind: the coders pages are for reviewers and managers."
# Rows of the text alternative under the chart: the newest answers.
TABLE_ROWS = 50


def _cells(matrices) -> list[dict]:
    """Matrices with each cell's heat class, row by row."""
    shown = []
    for m in matrices:
        high = max((v for row in m.rows for v in row), default=0)
        shown.append(
            {
                "m": m,
                "rows": [
                    (truth, [(v, heat(v, high), i == j) for j, v in enumerate(row)])
                    for i, (truth, row) in enumerate(
                        zip(m.categories, m.rows, strict=True)
                    )
                ],
            }
        )
    return shown


@access.login_required
@require_GET
def project_coders(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """Every coder: certified?, the last test, check accuracy and alerts."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    overview = coder_reports(project)
    return render(
        request,
        partial(request, "annotator/coders.html", "coder-table"),
        {
            "project": project,
            "can": access.abilities(request.user, project),
            "overview": overview,
        },
    )


@access.login_required
@require_GET
def project_coder(
    request: HtmxHttpRequest, project_id: int, user_id: int
) -> HttpResponse:
    """One coder: practice, attempts, the checks chart and both confusions."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
    )
    overview = coder_reports(project, coder=user_id, dawid_skene=True, charts=True)
    if not overview.reports:
        raise Http404("No such coder in this project.")
    (report,) = overview.reports
    can = access.abilities(request.user, project)
    return render(
        request,
        partial(request, "annotator/coder_detail.html", "checks"),
        {
            "project": project,
            "can": can,
            "coder": report,
            "overview": overview,
            "model": overview.model,
            "check_matrices": _cells(report.check_confusion),
            "model_matrices": _cells(report.dawid_skene),
            "recent": list(reversed(report.points[-TABLE_ROWS:])),
        },
    )
