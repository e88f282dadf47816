"""The export API: gold labels and raw annotations, as pages and as streamed files.

    GET /api/v1/projects/<id>/gold/               keyset pages (updated_at, id)
    GET /api/v1/projects/<id>/annotations/        keyset pages, raw codes per coder
    GET /api/v1/projects/<id>/gold.csv|.jsonl     the whole (filtered) gold, streamed
    GET /api/v1/projects/<id>/annotations.csv|.jsonl

Reviewers and managers (and staff) only: coders code blind, so they get 403; a
project you are not in is 404 (annotator.access); anonymous callers 401. Rows come from
annotator/exporting/, which the `export_gold` command shares, so a page, a file
and the command carry the same fields.

Gold is never computed here: stale gold is handed to a worker
(``services.jobs.refresh_gold_if_stale``) and the answer carries the last
finished gold, with ``X-Gold-As-Of`` (when it was computed) and
``X-Gold-Refreshing`` (whether a newer one is on its way).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, DateTimeField, F, Func, QuerySet, Value
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from annotator import access, access_machine, exporting
from annotator.models import GoldMethod, Project
from annotator.params import whole_number
from annotator.serializers import AnnotationRowPageSerializer, GoldRowPageSerializer
from annotator.services import jobs

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class BadRequest(ValueError):
    """A query parameter we cannot use; the message names it."""


class RowAfter(Func):
    """(a, b) > (x, y) as one SQL row comparison.

    A row comparison is a single range of a (project, a, b) index, so page 2,000
    costs what page 1 does; `a > x OR (a = x AND b > y)` would scan from the start
    of a's range, and a gold refresh gives thousands of rows the same updated_at.
    """

    output_field = BooleanField()

    def __init__(self, first: str, second: str, after: tuple[datetime, int]):
        super().__init__(
            F(first),
            F(second),
            Value(after[0], output_field=DateTimeField()),
            Value(after[1]),
        )

    def as_sql(self, compiler, connection, **extra):
        parts = [compiler.compile(e) for e in self.get_source_expressions()]
        (a, pa), (b, pb), (x, px), (y, py) = parts
        return f"({a}, {b}) > ({x}, {y})", (*pa, *pb, *px, *py)


class KeysetPagination:
    """Forward-only pages in (updated_at, id) order; `next` holds the last pair.

    Unlike an offset, or DRF's cursor (one field plus an offset among ties), the
    pair is exact, so a client syncing with `updated_since` neither skips nor
    repeats rows across pages, and deep pages are as fast as the first.
    """

    def __init__(self, request) -> None:
        self.request = request
        raw = request.query_params.get("page_size") or str(PAGE_SIZE)
        size = whole_number(raw)
        if size is None or not 1 <= size <= MAX_PAGE_SIZE:
            raise BadRequest(
                f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, "
                f"not {raw!r}"
            )
        self.size = size
        self.after = self.decode(request.query_params.get("cursor"))

    @staticmethod
    def encode(updated_at: datetime, pk: int) -> str:
        raw = json.dumps([updated_at.isoformat(), pk]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str | None) -> tuple[datetime, int] | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            moment, pk = json.loads(raw)
            return datetime.fromisoformat(moment), int(pk)
        except (ValueError, TypeError, binascii.Error):
            raise BadRequest(
                "cursor: not one this API made; follow the `next` link as given"
            ) from None

    def page(
        self,
        values: QuerySet,
        make_row: Callable[[tuple], dict],
        key: Callable[[tuple], tuple[datetime, int]],
    ) -> Response:
        """One page of `values` (a values_list ordered here) and the next link."""
        if self.after is not None:
            values = values.filter(RowAfter("updated_at", "pk", self.after))
        fetched = list(values.order_by("updated_at", "pk")[: self.size + 1])
        rows = [make_row(row) for row in fetched[: self.size]]
        next_url = None
        if len(fetched) > self.size:
            next_url = replace_query_param(
                self.request.build_absolute_uri(),
                "cursor",
                self.encode(*key(fetched[self.size - 1])),
            )
        return Response({"next": next_url, "results": rows})


class ExportView(APIView):
    """Shared by every export endpoint: who may read, which project, bad input."""

    def perform_content_negotiation(self, request, force=False):
        # A file answers in its own format whatever Accept says, and errors answer
        # in JSON: never 406 because a client asked for text/csv.
        return super().perform_content_negotiation(request, force=True)

    def get_project(self, project_id: int) -> Project:
        return access.project_for(self.request.user, project_id, access.Can.REVIEW)

    def handle_exception(self, exc):
        if isinstance(exc, BadRequest):
            return Response({"detail": str(exc)}, status=400)
        if isinstance(exc, ValidationError):
            # The freshness check refuses a project whose rules are bad in the database
            # (written before they were checked, or by SQL): a conflict with the
            # project's state that a manager fixes, not a server error.
            return Response(
                {"detail": " ".join(exc.messages) + " A manager can fix this in "
                 "the project's admin page."},
                status=409,
            )  # fmt: skip
        return super().handle_exception(exc)


def gold_freshness(project: Project, request) -> dict[str, str]:
    """Stale gold to a worker; the headers saying how fresh the gold sent is."""
    status = jobs.refresh_gold_if_stale(project, by=request.user)
    headers = {"X-Gold-Refreshing": "true" if status.refreshing else "false"}
    if status.as_of is not None:
        headers["X-Gold-As-Of"] = status.as_of.isoformat()
    return headers


def parse_filters(project: Project, request) -> exporting.GoldFilters:
    try:
        return exporting.parse_gold_filters(project, request.query_params)
    except ValueError as error:
        raise BadRequest(str(error)) from None


def flag(request, name: str) -> bool:
    """A yes/no query parameter: 1 or true, 0 or false, absent is no."""
    value = request.query_params.get(name, "")
    if value.lower() in ("", "0", "false"):
        return False
    if value.lower() in ("1", "true"):
        return True
    raise BadRequest(f"{name}: expected 1 or 0, not {value!r}")


RAW = OpenApiParameter(
    "raw",
    bool,
    description="CSV only. By default a text cell starting with =, +, -, @, tab or "
    "CR gets a leading ' so no spreadsheet opens it as a formula; raw=1 gives the "
    "exact text (for data pipelines; JSONL is always exact).",
)


def since_filter(request) -> datetime | None:
    raw = request.query_params.get("updated_since")
    if not raw:
        return None
    try:
        return exporting.parse_datetime_param("updated_since", raw)
    except ValueError as error:
        raise BadRequest(str(error)) from None


GOLD_FILTERS = [
    OpenApiParameter("dimension", str, description="A dimension key, e.g. topic."),
    OpenApiParameter("method", str, enum=GoldMethod.values),
    OpenApiParameter("document", int, description="A document id."),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only labels updated at or after this moment (ISO 8601; naive "
        "means UTC): pass the last updated_at you stored to sync incrementally.",
    ),
]
# The downloads' own filter: machine codes (issue 18) only when asked for.
GOLD_FILE = GOLD_FILTERS + [
    OpenApiParameter(
        "include_machine",
        bool,
        description="1: after the gold, the machine coder's codes of the spans no "
        'human coded, each with method "machine" and its probability in posterior '
        "(managers and staff only: 403 for reviewers).",
    )
]
GOLD_HEADERS = [
    OpenApiParameter(
        "X-Gold-As-Of",
        OpenApiTypes.DATETIME,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="When the gold sent was computed (ISO 8601); absent if it "
        "never was. Gold is computed by background workers, never in the request.",
    ),
    OpenApiParameter(
        "X-Gold-Refreshing",
        OpenApiTypes.BOOL,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="true while a newer refresh waits or runs (the annotations "
        "changed since): ask again later for fresher gold.",
    ),
]
PAGING = [
    OpenApiParameter(
        "page_size",
        int,
        description=f"Rows per page, 1–{MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
    ),
    OpenApiParameter("cursor", str, description="From the previous page's `next`."),
]
ERRORS = {
    400: OpenApiResponse(description="A bad query parameter, named."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Coders cannot read gold or others' codes."),
    404: OpenApiResponse(description="No such project of yours."),
}
GOLD_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        description="The project's gold rules (gold_methods) are invalid; the "
        "detail names the bad entry."
    ),
}


class GoldView(ExportView):
    @extend_schema(
        summary="Gold labels with provenance, in pages",
        description="Ordered by (updated_at, id). Follow `next` to the end; later, "
        "resume with updated_since = the last updated_at you stored.",
        parameters=GOLD_FILTERS + PAGING + GOLD_HEADERS,
        responses={200: GoldRowPageSerializer, **GOLD_ERRORS},
    )
    def get(self, request, project_id: int) -> Response:
        project = self.get_project(project_id)
        filters = parse_filters(project, request)
        if flag(request, "include_machine"):
            raise BadRequest(
                "include_machine: machine codes come only in the gold.csv and "
                "gold.jsonl downloads; these pages hold human gold."
            )
        pages = KeysetPagination(request)
        headers = gold_freshness(project, request)
        values = exporting.gold_values(exporting.gold_labels(project, filters))
        response = pages.page(
            values.values_list(*exporting.GOLD_VALUES, "pk"),
            make_row=lambda row: exporting.gold_row(row[:-1]),
            key=lambda row: (row[-2], row[-1]),
        )
        for name, value in headers.items():
            response[name] = value
        return response


class AnnotationsView(ExportView):
    @extend_schema(
        summary="Every coder's annotations (raw codes), in pages",
        description="Reviewers and managers only. Ordered by (updated_at, id); a "
        "revised annotation comes again with its new codes.",
        parameters=[GOLD_FILTERS[-1]] + PAGING,
        responses={200: AnnotationRowPageSerializer, **ERRORS},
    )
    def get(self, request, project_id: int) -> Response:
        project = self.get_project(project_id)
        since = since_filter(request)
        pages = KeysetPagination(request)
        return pages.page(
            exporting.annotation_values(exporting.annotations_of(project, since)),
            make_row=exporting.annotation_row,
            key=lambda row: (row[-1], row[0]),
        )


# --- streamed files ------------------------------------------------------------------

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}


def streamed(chunks: Iterator[str], filename: str, fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy passes pieces on as they come
    return response


def file_schema(fmt: str, what: str, parameters: list, errors: dict = ERRORS):
    media_type = FORMATS[fmt].split(";")[0]
    return extend_schema_view(
        get=extend_schema(
            summary=f"Download {what} as {fmt.upper()}",
            description="Streamed as it is read (constant memory), each row with the "
            "span's document id, title, offsets and text. "
            + (
                "A header row; multi-choice keys joined by '|'; coder_codes as JSON "
                "text; annotations get one label_<dimension> column per dimension."
                if fmt == "csv"
                else "One JSON object per line, with the same fields as the API's rows."
            ),
            parameters=parameters,
            responses={(200, media_type): OpenApiTypes.STR, **errors},
        )
    )


class GoldFileView(ExportView):
    fmt = "csv"

    def get(self, request, project_id: int):
        project = self.get_project(project_id)
        filters = parse_filters(project, request)
        raw = flag(request, "raw")  # exact text, no formula quoting
        machine = flag(request, "include_machine")
        if machine:
            access_machine.check_include_machine(request.user, project)
        headers = gold_freshness(project, request)
        if self.fmt == "csv":
            chunks = exporting.gold_csv(
                project, filters, raw=raw, include_machine=machine
            )
        else:
            chunks = exporting.gold_jsonl(project, filters, include_machine=machine)
        response = streamed(chunks, f"project-{project.pk}-gold.{self.fmt}", self.fmt)
        for name, value in headers.items():
            response[name] = value
        return response


class AnnotationsFileView(ExportView):
    fmt = "csv"

    def get(self, request, project_id: int):
        project = self.get_project(project_id)
        since = since_filter(request)
        if self.fmt == "csv":
            keys = exporting.dimension_keys(project)
            chunks = exporting.csv_chunks(
                exporting.annotation_rows(
                    project, make_row=exporting.annotation_csv_cells(keys), since=since
                ),
                exporting.annotation_csv_header(keys),
                raw=flag(request, "raw"),
            )
        else:
            chunks = exporting.jsonl_chunks(
                exporting.annotation_rows(project, since=since)
            )
        return streamed(
            chunks, f"project-{project.pk}-annotations.{self.fmt}", self.fmt
        )


@file_schema("csv", "gold labels", GOLD_FILE + [RAW] + GOLD_HEADERS, GOLD_ERRORS)
class GoldCSVView(GoldFileView):
    fmt = "csv"


@file_schema("jsonl", "gold labels", GOLD_FILE + GOLD_HEADERS, GOLD_ERRORS)
class GoldJSONLView(GoldFileView):
    fmt = "jsonl"


@file_schema("csv", "every coder's annotations", [GOLD_FILTERS[-1], RAW])
class AnnotationsCSVView(AnnotationsFileView):
    fmt = "csv"


@file_schema("jsonl", "every coder's annotations", [GOLD_FILTERS[-1]])
class AnnotationsJSONLView(AnnotationsFileView):
    fmt = "jsonl"
