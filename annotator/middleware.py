"""Request middleware of our own: one log line per request, and body-size limits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

request_log = logging.getLogger("annotator.requests")

# A multipart body carries boundaries and the form's other fields beside the files;
# the per-file limit itself is checked (with a message naming the file) by the form.
MULTIPART_SLACK = 1024 * 1024


class RequestLogMiddleware:
    """One line per request on stdout: method, path, status, duration in ms, user.

    logfmt (key=value) so it reads by eye and parses with one split; the duration
    ends when the response is handed to the server (a streamed body may go on).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        user = getattr(request, "user", None)
        request_log.info(
            "method=%s path=%s status=%d duration_ms=%.1f user=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed_ms,
            user.pk if user is not None and user.is_authenticated else "-",
        )
        return response


class BodySizeLimitMiddleware:
    """413 with a clear message for a body over the limit, before any of it is read.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when a view reads the body, as a
    bare 400, and not at all for DRF's parsers or for file uploads; this checks the
    declared Content-Length of every request up front.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if request.content_type == "multipart/form-data":
            most, what = settings.CORPUS_UPLOAD_MAX_BYTES, "upload"
            allowed = most + MULTIPART_SLACK
        else:
            most, what = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "request body"
            allowed = most
        if size <= allowed:
            return self.get_response(request)
        message = (
            f"The {what} is {size:,} bytes; at most {most:,} bytes are accepted."
            + (
                " Import large corpora with 'manage.py import_corpus'."
                if what == "upload"
                else ""
            )
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain")
