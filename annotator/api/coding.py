"""The coder's API: projects, claim, submit, skip, own annotations.

Every view reaches data through `Project.objects.visible_to(user)`, so a non-member
gets 404 whatever the id; role checks (annotator/permissions.py) then give 403.
Writes go through the same services as the coding page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.models import Annotation, Assignment, Label, Project
from annotator.permissions import IsCoder
from annotator.serializers import (
    AnnotationSerializer,
    ClaimSerializer,
    ProjectSerializer,
    SkippedSerializer,
    SkipSerializer,
    SubmitSerializer,
)
from annotator.services import (
    claim_next_span,
    fetch_row,
    fetch_rows,
    from_row,
    skip_span,
    submit_annotation,
)

CONTEXT_SPANS = 2
MAX_INDEX = 2**31 - 1  # Span.index is an integer column
CONFLICT = OpenApiResponse(
    inline_serializer("Conflict", {"detail": serializers.CharField()}),
    description="The assignment's state forbids this (skipped, lapsed and taken by "
    "others, or no longer held).",
)
FORBIDDEN = OpenApiResponse(description="You are not a coder in this project.")
NOT_FOUND = OpenApiResponse(description="No such project or assignment of yours.")


def visible_projects(request):
    return Project.objects.visible_to(request.user).with_user_role(request.user)


def _detail(error: ValidationError) -> str:
    return " ".join(error.messages)


def service_error(error: ValidationError, *, nest_under: str = "") -> Response:
    """A service's refusal as the API answers it.

    Errors keyed by field are bad input (400; nested under `nest_under` when given);
    any other error is the assignment's state forbidding the action (409).
    """
    if not hasattr(error, "error_dict"):
        return Response({"detail": _detail(error)}, status.HTTP_409_CONFLICT)
    errors = error.message_dict
    return Response(
        {nest_under: errors} if nest_under else errors, status.HTTP_400_BAD_REQUEST
    )


# The claim and the submit are each coder's request every few seconds, for hours:
# their access checks and answers are written out (SQL, dicts) instead of built from
# QuerySets and ModelSerializers, whose compiling and field machinery cost more CPU
# than the database spends on the queries. The answers keep ClaimSerializer's and
# AnnotationSerializer's shapes (the schema); tests pin that they match.

# Who may see a project or an assignment: the rule of Project.objects.visible_to
# (members; staff see every project), with the user's role for the permission
# classes, in one query.
_PROJECT_ACCESS = """
SELECT p.id, p.codebook_id, p.lease_minutes, m.role
FROM annotator_project AS p
LEFT JOIN annotator_membership AS m ON m.project_id = p.id AND m.user_id = %s
WHERE p.id = %s
"""
_ASSIGNMENT_ACCESS = """
SELECT a.id, a.project_id, a.coder_id, m.role
FROM annotator_assignment AS a
LEFT JOIN annotator_membership AS m ON m.project_id = a.project_id AND m.user_id = %s
WHERE a.id = %s
"""


class CoderAPIView(APIView):
    permission_classes = [IsAuthenticated, IsCoder]

    def _visible(self, row: tuple | None, what: str) -> tuple:
        if row is None or (row[-1] is None and not self.request.user.is_staff):
            raise Http404(f"No such {what}.")
        return row

    def get_project(self, project_id: int) -> Project:
        """The project with its codebook and lease loaded: 404 unless visible, 403
        unless the caller codes in it."""
        pk, codebook_id, lease_minutes, role = self._visible(
            fetch_row(_PROJECT_ACCESS, [self.request.user.pk, project_id]), "project"
        )
        project = from_row(
            Project, id=pk, codebook_id=codebook_id, lease_minutes=lease_minutes
        )
        project.user_role = role
        self.check_object_permissions(self.request, project)
        return project

    def get_assignment(self, assignment_id: int) -> Assignment:
        """The caller's own assignment: 404 for others' (blind), 403 for non-coders."""
        user = self.request.user
        pk, project_id, coder_id, role = self._visible(
            fetch_row(_ASSIGNMENT_ACCESS, [user.pk, assignment_id]), "assignment"
        )
        assignment = from_row(
            Assignment, id=pk, project_id=project_id, coder_id=coder_id
        )
        assignment.user_role = role
        self.check_object_permissions(self.request, assignment)
        if coder_id != user.pk:
            raise Http404("No such assignment of yours.")
        return assignment


# A span, its document, and the n codable spans on either side, in reading order:
# one query, one index range. The bounds are the nth codable span before and after
# (LIMIT/OFFSET subqueries, evaluated once), so excluded spans in between cost a
# row each and the document's length costs nothing.
_SPAN_IN_CONTEXT = """
WITH this AS (SELECT id, document_id, "index" FROM corpus_span WHERE id = %(span)s),
bounds AS (
    SELECT this.id, this.document_id,
        COALESCE((
            SELECT b."index" FROM corpus_span AS b
            WHERE b.document_id = this.document_id AND NOT b.excluded
              AND b."index" < this."index"
            ORDER BY b."index" DESC LIMIT 1 OFFSET %(skip)s
        ), -1) AS low,
        COALESCE((
            SELECT a."index" FROM corpus_span AS a
            WHERE a.document_id = this.document_id AND NOT a.excluded
              AND a."index" > this."index"
            ORDER BY a."index" LIMIT 1 OFFSET %(skip)s
        ), %(max)s) AS high
    FROM this
)
SELECT s.id, s."index", s.start, s."end", s.text,
       d.id, d.title, d.source, d.published
FROM bounds
JOIN corpus_span AS s ON s.document_id = bounds.document_id
    AND s."index" >= bounds.low AND s."index" <= bounds.high
JOIN corpus_document AS d ON d.id = bounds.document_id
WHERE s.id = bounds.id OR NOT s.excluded
ORDER BY s."index"
"""


def span_in_context(span_id: int, n: int = CONTEXT_SPANS) -> tuple[dict, dict]:
    """(the span with its document, {"before": [...], "after": [...]}) as the claim
    answers them (SpanSerializer, ContextSerializer)."""
    rows = fetch_rows(
        _SPAN_IN_CONTEXT, {"span": span_id, "skip": n - 1, "max": MAX_INDEX}
    )
    context: dict[str, list[dict]] = {"before": [], "after": []}
    side = context["before"]
    span: dict = {}
    for pk, index, start, end, text, document_id, title, source, published in rows:
        if pk == span_id:
            span = {
                "id": pk,
                "document": {
                    "id": document_id,
                    "title": title,
                    "source": source,
                    "published": published,
                },
                "index": index,
                "start": start,
                "end": end,
                "text": text,
            }
            side = context["after"]
        elif n > 0:
            side.append({"id": pk, "index": index, "text": text})
    return span, context


def annotation_payload(annotation: Annotation) -> dict:
    """An annotation as AnnotationSerializer renders it, from what submit_annotation
    returns loaded (span, codebook version, labels): no query."""
    span = annotation.assignment.span
    return {
        "id": annotation.pk,
        "assignment": annotation.assignment_id,
        "span": {
            "id": span.pk,
            "document": span.document_id,
            "index": span.index,
            "text": span.text,
        },
        "labels": annotation.label_keys(),
        "uncertain": annotation.uncertain,
        "comment": annotation.comment,
        "seconds": annotation.seconds,
        "codebook_version": annotation.codebook.version,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
    }


class ClaimView(CoderAPIView):
    @extend_schema(
        request=None,
        responses={
            200: ClaimSerializer,
            204: OpenApiResponse(description="Nothing is left for you to code."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        summary="Claim your next span",
        description="Returns your live claim if you hold one, else claims the next "
        "span under a lease (the project's lease minutes). The clock for "
        "'seconds spent' starts now.",
    )
    def post(self, request, project_id: int) -> Response:
        project = self.get_project(project_id)
        try:
            assignment = claim_next_span(
                project=project, coder=request.user, shown=True
            )
        except ValidationError as error:
            return Response({"detail": _detail(error)}, status.HTTP_403_FORBIDDEN)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        span, context = span_in_context(assignment.span_id)
        return Response(
            {
                "assignment": assignment.pk,
                "span": span,
                "context": context,
                "expires_at": assignment.expires_at,
            }
        )


class SubmitView(CoderAPIView):
    @extend_schema(
        request=SubmitSerializer,
        responses={
            201: AnnotationSerializer,
            200: OpenApiResponse(
                AnnotationSerializer,
                description="Replay of a stored submit (same token or same content), "
                "or a revision of your earlier annotation.",
            ),
            400: OpenApiResponse(
                description='Bad labels, per dimension: {"labels": {"topic": '
                '["..."]}}, or a malformed body.'
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        summary="Save (or revise) your annotation of a claimed span",
    )
    def post(self, request, assignment_id: int) -> Response:
        assignment = self.get_assignment(assignment_id)
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            # The service tells whether it stored the annotation: it decides under
            # its locks, so a submit arriving twice at once gets one 201, one 200.
            annotation = submit_annotation(
                coder=request.user, assignment=assignment.pk, **body.validated_data
            )
        except ValidationError as error:
            # Errors keyed by dimension go under "labels".
            return service_error(error, nest_under="labels")
        return Response(
            annotation_payload(annotation),
            status.HTTP_201_CREATED if annotation.created else status.HTTP_200_OK,
        )


class SkipView(CoderAPIView):
    @extend_schema(
        request=SkipSerializer,
        responses={
            200: SkippedSerializer,
            400: OpenApiResponse(description="No reason given."),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        summary="Give a claimed span back, with a reason",
        description="You will not get this span again.",
    )
    def post(self, request, assignment_id: int) -> Response:
        assignment = self.get_assignment(assignment_id)
        body = SkipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            skipped = skip_span(
                coder=request.user,
                assignment=assignment,
                reason=body.validated_data["reason"],
            )
        except ValidationError as error:
            return service_error(error)
        return Response(SkippedSerializer(skipped).data)


def annotations_with_labels():
    """Annotations with span, codebook and labels loaded: no per-row queries."""
    return Annotation.objects.select_related(
        "assignment__span", "codebook"
    ).prefetch_related(
        Prefetch(
            "labels", queryset=Label.objects.select_related("dimension", "category")
        )
    )


class AnnotationCursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(
    summary="Your own annotations in a project, newest first",
    responses={
        200: AnnotationSerializer(many=True),
        404: OpenApiResponse(description="No such project of yours, or a bad cursor."),
    },
)
class MyAnnotationsView(ListAPIView):
    """Only the caller's annotations: blind coding holds for every role."""

    permission_classes = [IsAuthenticated]
    serializer_class = AnnotationSerializer
    pagination_class = AnnotationCursor

    def get_queryset(self):
        project = get_object_or_404(
            Project.objects.visible_to(self.request.user), pk=self.kwargs["project_id"]
        )
        return annotations_with_labels().for_project(project).by(self.request.user)


@extend_schema_view(
    list=extend_schema(summary="Projects you can see, with your role in each"),
    retrieve=extend_schema(
        summary="One project you can see, with your role",
        responses={
            200: ProjectSerializer,
            404: OpenApiResponse(description="No such project of yours."),
        },
    ),
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return visible_projects(self.request).select_related("corpus", "codebook")
