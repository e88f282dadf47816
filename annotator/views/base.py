"""What every page module shares: the htmx request type and the response helpers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def see_other(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """After a successful POST: 303 for plain forms, a client redirect for htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def partial(request: HtmxHttpRequest, template: str, name: str) -> str:
    """The whole page, or just the named inline partial when htmx asks."""
    return f"{template}#{name}" if request.htmx else template
