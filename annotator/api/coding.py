"""The coder's API: projects, claim, submit, skip and its undo, own annotations.

Every view reaches data through annotator.access, so a non-member gets 404
whatever the id and a member who does not code 403. Writes go through the same
services as the coding page, the span in context through annotator.spans.

The claim and the submit run every few seconds per coder: their project or
assignment comes with its access check in one query (access.coding_project,
access.own_assignment), and their answers are written out as dicts in the
serializers' shapes (tests pin that they match). Anonymous callers get 401 from
the default IsAuthenticated permission (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator import access
from annotator.models import Annotation
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
    skip_span,
    submit_annotation,
    unskip_span,
)
from annotator.services.closed import ProjectClosed
from annotator.spans import span_in_context

CONFLICT = OpenApiResponse(
    inline_serializer("Conflict", {"detail": serializers.CharField()}),
    description="The assignment's state forbids this (skipped, lapsed and taken by "
    "others, or no longer held).",
)
FORBIDDEN = OpenApiResponse(description="You are not a coder in this project.")
NOT_FOUND = OpenApiResponse(description="No such project or assignment of yours.")


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


class ClaimView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: ClaimSerializer,
            204: OpenApiResponse(description="Nothing is left for you to code."),
            403: OpenApiResponse(
                inline_serializer("Refused", {"detail": serializers.CharField()}),
                description="You are not a coder in this project, or it requires "
                "the certification test and you have not passed it yet.",
            ),
            409: OpenApiResponse(description="The project is closed."),
            404: NOT_FOUND,
        },
        summary="Claim your next span",
        description="Returns your live claim if you hold one, else claims the next "
        "span under a lease (the project's lease minutes). The clock for "
        "'seconds spent' starts now.",
    )
    def post(self, request, project_id: int) -> Response:
        project = access.coding_project(request.user, project_id)
        try:
            assignment = claim_next_span(
                project=project, coder=request.user, shown=True
            )
        except ProjectClosed as error:
            return Response({"detail": _detail(error)}, status.HTTP_409_CONFLICT)
        except ValidationError as error:
            return Response({"detail": _detail(error)}, status.HTTP_403_FORBIDDEN)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(claim_payload(assignment))


def claim_payload(assignment) -> dict:
    """A claim as ClaimSerializer renders it: the span in context, the lease."""
    span, context = span_in_context(assignment.span_id).payload()
    return {
        "assignment": assignment.pk,
        "span": span,
        "context": context,
        "expires_at": assignment.expires_at,
    }


class SubmitView(APIView):
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
        assignment = access.own_assignment(request.user, assignment_id)
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


class SkipView(APIView):
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
        description="You will not get this span again unless you undo the skip "
        "(unskip) while it still has a place for you.",
    )
    def post(self, request, assignment_id: int) -> Response:
        assignment = access.own_assignment(request.user, assignment_id)
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


class UnskipView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: ClaimSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        summary="Undo your skip: the span becomes your live claim again",
        description="Allowed while the span still has a place for you; your next "
        "claim serves it (a claim you held on another span stays yours). 409 when "
        "it is not skipped or other coders have filled it since.",
    )
    def post(self, request, assignment_id: int) -> Response:
        assignment = access.own_assignment(request.user, assignment_id)
        try:
            claimed = unskip_span(coder=request.user, assignment=assignment)
        except ValidationError as error:
            return service_error(error)
        return Response(claim_payload(claimed))


def annotations_with_labels():
    """Annotations with span, codebook and labels loaded: no per-row queries."""
    return Annotation.objects.select_related(
        "assignment__span", "codebook"
    ).with_labels()


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

    serializer_class = AnnotationSerializer
    pagination_class = AnnotationCursor

    def get_queryset(self):
        project = access.project_for(self.request.user, self.kwargs["project_id"])
        # Their hidden checks too: a check is their work as a span is (blind).
        return annotations_with_labels().own_work(project, self.request.user)


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
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return access.visible_projects(self.request.user).select_related(
            "corpus", "codebook"
        )
