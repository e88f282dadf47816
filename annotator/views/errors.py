"""Error answers in the form the caller can use: a page, an htmx fragment or JSON.

A page gets the site's layout, the reason and a link home; an htmx request gets a
small fragment that htmx-errors.js shows in a problem box beside the form that sent
it (never a whole page nested in a card); anything under /api/ gets
`{"detail": …}`. The 500 and 503 answers are rendered without the request: their
templates read no session, user or messages, so they render with the database
down. ErrorAnswerMiddleware sends view exceptions here; urls.py names the handlers
for the rest, and settings.CSRF_FAILURE_VIEW names csrf_failure.
"""

from __future__ import annotations

import sys

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, reverse

from annotator import access

# A connection refused, lost or closed: Django wraps the driver's (psycopg's)
# connection errors as these. Other database errors are bugs, answered 500.
DATABASE_DOWN = (OperationalError, InterfaceError)

TITLES = {
    400: "Bad request",
    401: "You were signed out",
    403: "Not allowed",
    404: "Not found",
    500: "Server error",
    503: "Database unavailable",
}
REASONS = {
    400: "The request could not be understood; nothing was changed.",
    401: "You were signed out. Your choices are kept.",
    403: "You may not do this.",
    404: "There is nothing at this address.",
    500: "Something went wrong on the server; nothing was saved. It is logged; "
    "if it goes on, tell a manager.",
    503: "The database is unavailable; nothing was saved. Try again shortly.",
}
NOT_SAVED = "Could not save — your choices are kept. Try again (press Enter)."
NOT_LOADED = "Could not load this: the database is unavailable. Try again shortly."
CSRF_REASON = (
    "Your session changed (signed in or out in another tab), so this form is out "
    "of date; nothing was saved. Reload the page."
)
PAGES = {400: "400.html", 403: "403.html", 404: "404.html"}
STANDALONE = {500: "500.html", 503: "503.html"}  # rendered without the request
FRAGMENT = "errors/fragment.html"
SIGNED_OUT = "errors/signed_out.html"


def is_htmx(request: HttpRequest) -> bool:
    # The header, not request.htmx: an error may come before HtmxMiddleware ran.
    return request.headers.get("HX-Request") == "true"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def answer(
    request: HttpRequest, status: int, reason: str = "", **extra: str
) -> HttpResponse:
    """The error answer for `status`: JSON, fragment or page, whichever fits."""
    reason = reason or REASONS[status]
    if is_api(request):
        return JsonResponse({"detail": reason}, status=status)
    context = {"status": status, "title": TITLES[status], "reason": reason, **extra}
    if is_htmx(request) or status in STANDALONE:
        template = FRAGMENT if is_htmx(request) else STANDALONE[status]
        return HttpResponse(render_to_string(template, context), status=status)
    try:
        return render(request, PAGES[status], context, status=status)
    except DATABASE_DOWN:  # the layout names the user: the database went down
        return database_down(request)


def database_down(request: HttpRequest) -> HttpResponse:
    """503: nothing was saved; a coder's choices stay in their form."""
    if is_api(request) or not is_htmx(request):
        response = answer(request, 503)
    else:
        saving = request.method not in ("GET", "HEAD")
        response = answer(request, 503, NOT_SAVED if saving else NOT_LOADED)
    response["Retry-After"] = "30"
    return response


def signed_out(request: HttpRequest) -> HttpResponse:
    """401 for htmx: a card to sign in again without leaving the page."""
    context = {
        "fresh_token": get_token(request),  # the cookie's: no database involved
        "signed_in_url": reverse("signed-in"),
        "login_url": reverse("login"),
    }
    return HttpResponse(render_to_string(SIGNED_OUT, context), status=401)


def reason_of(exception: Exception | None) -> str:
    """The message a view raised with, if it is one meant for people."""
    if exception is None or isinstance(exception, Resolver404):
        return ""  # a resolver's message is its list of URL patterns
    message = exception.args[0] if exception.args else ""
    return message if isinstance(message, str) else ""


# --- the handlers urls.py and settings name ------------------------------------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return answer(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return answer(request, 403, reason_of(exception))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return answer(request, 404, reason_of(exception))


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when what failed was the connection to the database (an error
    raised in a middleware, which ErrorAnswerMiddleware never sees)."""
    failed = sys.exc_info()[1]
    if failed is not None:
        request.error_name = type(failed).__name__  # for the request log
    if isinstance(failed, DATABASE_DOWN):
        return database_down(request)
    return answer(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form whose CSRF token is stale; an htmx fragment carries the
    current token so the script can retry once."""
    return answer(request, 403, CSRF_REASON, fresh_token=get_token(request))


# --- signing back in from the 401 card -----------------------------------------------


@access.login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    """Where the 401 card's sign-in lands: the new session's CSRF token (a sign-in
    changes it), for the page to send with its next request."""
    return JsonResponse(
        {"csrf_token": get_token(request), "username": request.user.get_username()}
    )


def exception_answer(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """The answer to an exception a view raised, or None for Django's handlers."""
    if isinstance(exception, access.SignedOut):
        return signed_out(request)
    if isinstance(exception, DATABASE_DOWN):
        return database_down(request)
    if not is_htmx(request):
        return None  # pages: Django's handlers (ours, above, unless DEBUG)
    # htmx: a fragment even with DEBUG on, whose error pages are whole documents.
    if isinstance(exception, Http404):
        return answer(request, 404, reason_of(exception))
    if isinstance(exception, PermissionDenied):
        return answer(request, 403, reason_of(exception))
    return None
