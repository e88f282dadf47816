"""What every page module shares: the htmx request, responses, the gold panel.

The gold freshness panel's context: pages that read gold include the panel; the
downloads section's: the project page and the downloads page include it; the
background intervals' panel: the agreement dashboard and the reliability report.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from annotator import access
from annotator.finding_forms import DownloadForm
from annotator.gold.freshness import gold_status
from annotator.models import Job, Project
from annotator.services import codebook_dimensions
from annotator.services.agreement_jobs import IntervalsStatus


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def heat(value: float, high: float) -> str:
    """A heatmap cell's class (static/annotator/scales.css), ``value`` of ``high``:
    the coders' confusion matrices and the machine coder's."""
    if not high or not math.isfinite(value):
        return "heat-none"
    return f"heat-{round(min(max(value / high, 0.0), 1.0) * 20)}"


def see_other(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """After a successful POST: 303 for plain forms, a client redirect for htmx."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def add_service_errors(form, error: ValidationError) -> None:
    """A service's ValidationError onto the form: each message on its field,
    the rest (or a message without a field) above the form. A form whose fields
    are named apart from the service's arguments maps them in ``SERVICE_FIELDS``."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    renamed = getattr(form, "SERVICE_FIELDS", {})
    for field, problems in error.message_dict.items():
        field = renamed.get(field, field)
        form.add_error(field if field in form.fields else None, problems)


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


def query_without_page(request: HttpRequest) -> str:
    """The request's query string less `page`: what a list's pager links carry so
    each page keeps the search and filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def download_form(project: Project, data=None) -> DownloadForm:
    """The downloads form, its dimensions from the codebook cache (no query once
    cached)."""
    return DownloadForm(
        data, dimension_keys=list(codebook_dimensions(project.codebook_id))
    )


def downloads_context(request: HtmxHttpRequest, project: Project, form=None) -> dict:
    """The downloads section (templates/annotator/_downloads.html): the form, the
    agreement report, and to managers the newest archive."""
    can = access.abilities(request.user, project)
    return {
        "download_form": form or download_form(project),
        "latest_archive": Job.objects.latest_archive(project) if can.manage else None,
        "can": can,
    }


def intervals_panel(
    request: HtmxHttpRequest,
    project: Project,
    status: IntervalsStatus | None,
    *,
    polled: bool = False,
) -> dict[str, Any]:
    """The context of ``agreement_status.html#intervals-status``: the background
    intervals' time, the job computing them (the panel polls itself while there
    is one) and, for managers only, a link to it. ``status`` None: every
    interval was computed in the request, and there is no panel."""
    return {
        "project": project,
        "intervals": status,
        "can_manage": access.abilities(request.user, project).manage,
        "polled": polled,
    }
