"""The coders API: each coder's training, checks and confusions, for reviewers.

``GET /api/v1/projects/<id>/coders/`` reads what the coders pages read
(``annotator.training.coders.coder_reports``), with Dawid–Skene's matrices.
Non-members get 404, coders 403 (blind coding), anonymous callers 401.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.serializers_coders import CodersSerializer
from annotator.training.coders import coder_reports

REFUSAL = "Coders code blind: the coders' figures are for reviewers and managers."


class CodersView(APIView):
    """Per coder: certification, practice, attempts, hidden checks, confusions."""

    @extend_schema(
        responses={
            200: CodersSerializer,
            403: OpenApiResponse(description="Coders cannot see other coders."),
            404: OpenApiResponse(description="No such project of yours."),
        },
    )
    def get(self, request, project_id: int) -> Response:
        project = access.project_for(
            request.user, project_id, access.Can.REVIEW, refusal=REFUSAL
        )
        return Response(CodersSerializer(coder_reports(project, dawid_skene=True)).data)
