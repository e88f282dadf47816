"""What every page module shares: the htmx request, responses, the gold panel.

The gold freshness panel's context: pages that read gold include the panel.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from annotator import access
from annotator.gold.freshness import gold_status
from annotator.models import Project


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


def gold_panel(request: HtmxHttpRequest, project: Project, *, polled=False) -> dict:
    """The context of ``annotator/gold_status.html#gold-status``: the gold's age,
    the refresh waiting or running (the panel polls itself while there is one),
    and a link to the job for managers. ``polled``: the panel's own poll, which
    offers a reload once the refresh is done (the page around it shows older gold).
    """
    return {
        "project": project,
        "gold": gold_status(project),
        "can_manage": access.abilities(request.user, project).manage,
        "polled": polled,
    }
