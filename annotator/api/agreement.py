"""The agreement API: the dashboard's figures as JSON, for reviewers and managers.

``GET /api/v1/projects/<id>/agreement/`` calls the same report function as the
page (``annotator.agreement_report.project_report``), so both always agree.
Non-members get 404, coders 403 (blind coding; ``annotator.access``), anonymous
callers 401. Undefined coefficients are ``null``.

Intervals of dimensions above ``AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS``
pairable units are the last background job's (queued here when stale): each
dimension's ``intervals.state`` (and each interval's ``interval_state``) says
``in_request``, ``current``, ``stale`` (of older data, ``intervals.as_of``) or
``missing``; the top-level ``background_intervals`` says whether a job is
computing them (and, to managers, which).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.agreement_report import ReportRequestError, report_request
from annotator.params import whole_number
from annotator.services import agreement_jobs

DOCUMENTS_DEFAULT = 100


class AgreementView(APIView):
    """Every agreement coefficient and breakdown of a project, per dimension."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "over", str, enum=["week", "batch"], description="Trend periods."
            ),
            OpenApiParameter(
                "batch_size", int, description="Units per batch when over=batch."
            ),
            OpenApiParameter(
                "version",
                int,
                description="Count only the annotations made under this version "
                "of the project's codebook (default: the project's own).",
            ),
            OpenApiParameter(
                "documents",
                int,
                description="Per-document rows to return, lowest alpha first "
                f"(default {DOCUMENTS_DEFAULT}; 0 = all).",
            ),
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(description="A bad query parameter, named."),
            403: OpenApiResponse(description="Coders cannot see agreement."),
            404: OpenApiResponse(description="No such project of yours."),
        },
    )
    def get(self, request, project_id: int) -> Response:
        project = access.project_for(request.user, project_id, access.Can.REVIEW)
        try:
            options, codebook = report_request(project, request.query_params)
        except ReportRequestError as error:
            return Response({"detail": error.message}, status=error.status)
        raw = request.query_params.get("documents") or str(DOCUMENTS_DEFAULT)
        documents = whole_number(raw)
        if documents is None:
            return Response(
                {"detail": f"documents must be a whole number >= 0, not {raw!r}"},
                status=400,
            )
        report, status = agreement_jobs.report_with_intervals(
            project,
            by=request.user,
            codebook=codebook,
            over=options.over,
            batch_size=options.batch_size,
            documents_limit=documents or None,
        )
        body = report.to_dict()
        body["background_intervals"] = status and {
            "as_of": status.stored.computed_at.isoformat() if status.stored else None,
            "current": status.current,
            "refreshing": status.refreshing,
            "job": status.job.pk
            if status.job and access.abilities(request.user, project).manage
            else None,
        }
        return Response(body)
