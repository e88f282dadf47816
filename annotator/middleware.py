"""Request middleware of our own: the request log, error answers, body-size limits."""

from __future__ import annotations

import codecs
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from annotator.upload_limits import UPLOAD_PAGES, UploadPage
from annotator.views import errors

request_log = logging.getLogger("annotator.requests")
error_log = logging.getLogger("annotator.errors")

# A multipart body carries boundaries and the form's other fields beside the files;
# the per-file limit itself is checked (with a message naming the file) by the form.
MULTIPART_SLACK = 1024 * 1024


class RequestLogMiddleware:
    """One line per request on stdout: method, path, status, duration in ms, user.

    logfmt (key=value) so it reads by eye and parses with one split; the duration
    ends when the response is handed to the server (a streamed body may go on).
    A failed request (status 500 and up) is logged at ERROR, with the name of the
    exception that failed it (`error=OperationalError`) when there was one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = response.status_code
        error = getattr(request, "error_name", "")
        request_log.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "method=%s path=%s status=%d duration_ms=%.1f user=%s%s",
            request.method,
            request.path,
            status,
            elapsed_ms,
            user_of(request),
            f" error={error}" if error else "",
        )
        return response


def user_of(request: HttpRequest) -> object:
    """The user's id, or "-"; the user is read lazily from the session, which may
    be what failed: the line is still written."""
    user = getattr(request, "user", None)
    try:
        return user.pk if user is not None and user.is_authenticated else "-"
    except DatabaseError:
        return "-"


class ErrorAnswerMiddleware:
    """A view's exception answered in a form its caller can use (views/errors.py).

    The database down (OperationalError, InterfaceError) is a 503 everywhere: JSON
    under /api/ (DRF re-raises what is not its own), an htmx fragment that keeps
    the coder's choices, a page that needs no database. An htmx request from
    someone signed out (access.SignedOut) gets the 401 sign-in card; its 403s and
    404s get fragments even with DEBUG on, whose error pages are whole documents.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        answer = errors.exception_answer(request, exception)
        if answer is not None:
            request.error_name = type(exception).__name__
            if answer.status_code >= 500:
                error_log.error(
                    "%s %s failed: %s", request.method, request.path, exception,
                    exc_info=exception,
                )  # fmt: skip
        return answer


class BodySizeLimitMiddleware:
    """413 with a clear message for a body over the limit, before any of it is read.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when a view reads the body, as a
    bare 400, and never counts file parts; DRF's parsers skip it too. This checks
    the declared Content-Length of every request up front: DATA_UPLOAD_MAX_MEMORY_SIZE
    for everything, multipart included, except an upload to a page of
    ``annotator.upload_limits.UPLOAD_PAGES`` by a user allowed to use it: the corpus
    and codings import pages (CORPUS_UPLOAD_MAX_BYTES) and the project restore page
    (ARCHIVE_UPLOAD_MAX_BYTES). It sits after AuthenticationMiddleware to know the
    user; nothing before it reads the body (CSRF reads the form in process_view,
    which runs after every middleware's __call__).

    A body without a Content-Length (chunked) is never read by Django, whose
    request stream stops at the declared length; such a request is answered 411 so
    the client learns why, rather than seeing its fields vanish.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if (
            not declared
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            return refusal(
                request, "Send a Content-Length: chunked request bodies are not read.",
                status=411,
            )  # fmt: skip
        try:
            size = int(declared or 0)
        except ValueError:
            size = 0  # Django reads nothing of a body whose length it cannot parse
        page = self.upload_page(request)
        if page is None:
            most = allowed = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        else:
            most = page.limit
            allowed = most + MULTIPART_SLACK
        if size <= allowed:
            return self.get_response(request)
        what = "request body" if page is None else "upload"
        message = f"The {what} is {size:,} bytes; at most {most:,} bytes are accepted."
        if page is not None:
            message += f" {page.advice[:1].upper()}{page.advice[1:]}"
        return refusal(request, message, status=413)

    def upload_page(self, request: HttpRequest) -> UploadPage | None:
        """The upload page this request posts a file to, if its user may."""
        if request.content_type != "multipart/form-data":
            return None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        page = UPLOAD_PAGES.get(match.url_name)
        if page is None or not page.may(request.user, **match.kwargs):
            return None
        return page


class Utf8RequestMiddleware:
    """400 for a request whose Content-Type names a charset other than UTF-8.

    Django decodes the query string and a multipart form in the charset the
    request names (it refuses only a urlencoded body that is not UTF-8, and with a
    bare 400): in UTF-7 "+3AA-" becomes a lone surrogate, which no page can send
    back and no database can store, so one header turned any echoed field into a
    server error. Browsers send UTF-8; JSON's own escapes are checked per field
    (corpus.text, DRF's CharField).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = (
            request.content_params.get("charset") if request.content_params else None
        )
        if charset and not is_utf8(charset):
            return refusal(
                request,
                f"Send the request as UTF-8: charset {ascii(charset)} is not accepted.",
                status=400,
            )
        return self.get_response(request)


def is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name in ("utf-8", "ascii")
    except LookupError:
        return True  # Django ignores a charset it does not know and reads UTF-8


def refusal(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain")
