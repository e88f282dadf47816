"""The coder's own recent annotations and skips, and the "All done" card's poll.

Beside the coding screen (annotator/views/coding.py): the list a coder reopens
an annotation from, and the check that something new may be waiting.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from annotator import access
from annotator.finding import category_choices, list_filters, narrow_recent
from annotator.finding_forms import filter_form
from annotator.models import Annotation, Assignment
from annotator.services.queue import may_have_work
from annotator.views.base import HtmxHttpRequest, partial, query_without_page, see_other

RECENT_TEMPLATE = "annotator/code_recent.html"
RECENT_PER_PAGE = 25
RECENT_SKIPS = 10  # the skips the recent page lists, each with "Undo skip"


@access.login_required
@require_GET
def recent(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The coder's own annotations, newest first, each reopenable for revision."""
    project = access.coding_project(request.user, project_id)
    form = filter_form(request.GET, category_choices(project))
    annotations = (
        Annotation.objects.own_work(project, request.user)
        .select_related("assignment__span__document")
        .defer(
            "assignment__span__document__text",
            "assignment__span__document__metadata",
        )
        .annotate(n_revisions=Count("revisions"))
        .with_labels()
        .order_by("-created_at", "-pk")
    )
    if form.is_bound:  # an invalid form lists nothing and says what is wrong
        valid = form.is_valid()
        filters = list_filters(project, form.cleaned_data) if valid else None
        annotations = (
            narrow_recent(annotations, filters) if valid else annotations.none()
        )
    page = Paginator(annotations, RECENT_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "page": page,
        "filter_form": form,
        "filters": query_without_page(request),
    }
    if not request.htmx:  # htmx only pages through the annotations
        skips = Assignment.objects.recent_skips(project, request.user)
        context["skips"] = skips[:RECENT_SKIPS]
    return render(request, partial(request, RECENT_TEMPLATE, "recent-list"), context)


@access.login_required
@require_GET
def waiting(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """What the "All done" card polls: 204 while nothing new can be waiting, a
    notice with a way back to coding once something may be; claims nothing (an
    open tab must not hold leases). A plain GET goes to the coding screen."""
    project = access.coding_project(request.user, project_id)
    if not request.htmx:
        return see_other(request, reverse("project-code", args=[project.pk]))
    if not may_have_work(project, request.user):
        return HttpResponse(status=204)  # htmx swaps nothing and polls on
    return render(request, "annotator/code.html#new-work", {"project": project})
