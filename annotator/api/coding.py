"""The coder's API: projects, claim, submit, skip, own annotations.

Every view reaches data through `Project.objects.visible_to(user)`, so a non-member
gets 404 whatever the id; role checks (annotator/permissions.py) then give 403.
Writes go through the same services as the coding page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
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

from annotator.models import Annotation, Assignment, Label, Membership, Project
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
    skip_span,
    submit_annotation,
)
from corpus.models import Span

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


class CoderAPIView(APIView):
    permission_classes = [IsAuthenticated, IsCoder]

    def get_project(self, project_id: int) -> Project:
        project = get_object_or_404(visible_projects(self.request), pk=project_id)
        self.check_object_permissions(self.request, project)
        return project

    def get_assignment(self, assignment_id: int) -> Assignment:
        """The caller's own assignment: 404 for others' (blind), 403 for non-coders."""
        user = self.request.user
        assignment = get_object_or_404(
            Assignment.objects.select_related("project")
            .filter(project__in=Project.objects.visible_to(user).values("pk"))
            .annotate(
                user_role=Subquery(
                    Membership.objects.filter(
                        project=OuterRef("project_id"), user_id=user.pk
                    ).values("role")[:1]
                )
            ),
            pk=assignment_id,
        )
        self.check_object_permissions(self.request, assignment)
        if assignment.coder_id != user.pk:
            raise Http404("No such assignment of yours.")
        return assignment


def span_context(span: Span, n: int = CONTEXT_SPANS) -> dict[str, list[Span]]:
    """The n codable spans on either side of a span, in reading order.

    One query, one index range: from the nth codable span before to the nth after
    (found by two LIMIT/OFFSET subqueries), so excluded spans in between cost a
    row each and the document's length costs nothing.
    """
    if n < 1:
        return {"before": [], "after": []}
    siblings = Span.objects.codable().filter(document_id=span.document_id)
    nth_before = siblings.filter(index__lt=span.index).order_by("-index")
    nth_after = siblings.filter(index__gt=span.index).order_by("index")
    rows = (
        siblings.filter(
            index__gte=Coalesce(Subquery(nth_before.values("index")[n - 1 : n]), -1),
            index__lte=Coalesce(
                Subquery(nth_after.values("index")[n - 1 : n]), MAX_INDEX
            ),
        )
        .exclude(index=span.index)
        .order_by("index")
        .only("id", "index", "text")
    )
    return {
        "before": [row for row in rows if row.index < span.index],
        "after": [row for row in rows if row.index > span.index],
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
        span = (
            Span.objects.select_related("document")
            .only(
                "id",
                "index",
                "start",
                "end",
                "text",
                "document__id",
                "document__title",
                "document__source",
                "document__published",
            )  # fmt: skip
            .get(pk=assignment.span_id)
        )
        assignment.span = span
        assignment.context = span_context(span)
        return Response(ClaimSerializer(assignment).data)


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
        # The service returns it with span, codebook and labels loaded: no re-read.
        return Response(
            AnnotationSerializer(annotation).data,
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


@extend_schema(summary="Your own annotations in a project, newest first")
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
    retrieve=extend_schema(summary="One project you can see, with your role"),
)
class ProjectViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return visible_projects(self.request).select_related("corpus", "codebook")
