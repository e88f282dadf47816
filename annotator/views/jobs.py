"""Jobs pages: a project's jobs, one job's progress, and the gold freshness panel.

The jobs list and a job's page are the project managers' (and staff's); the
freshness panel ("gold as of 12:04, refreshing… 40 %") is for everyone who reads
gold (reviewers too), and links to the job only for managers. While a job is
waiting or running its page and the panel poll themselves every 2 s through
htmx and stop once it has finished.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator import access
from annotator.models import Job
from annotator.services import jobs
from annotator.views.base import HtmxHttpRequest, gold_panel, partial, see_other

JOBS_PER_PAGE = 50
PANEL = "annotator/gold_status.html"
GOLD_REFUSAL = "Only the project's reviewers and managers read its gold."


@access.login_required
@require_GET
def project_jobs(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The project's jobs, newest first."""
    project = access.project_jobs(request.user, project_id)
    page = Paginator(
        Job.objects.filter(project=project).select_related("requested_by"),
        JOBS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        partial(request, "annotator/jobs.html", "job-list"),
        {
            "project": project,
            "page": page,
            "any_active": any(j.is_active for j in page),
        },
    )


@access.login_required
@require_POST
def refresh_gold_now(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """A manager asks for a full refresh now; a waiting one is superseded."""
    project = access.project_jobs(request.user, project_id)
    job = jobs.request_gold_refresh(project, by=request.user, force=True)
    return see_other(request, reverse("job-detail", args=[job.pk]))


@access.login_required
@require_GET
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """One job: state, progress bar, error in words; polls itself while active."""
    job = access.job_for(request.user, job_id)
    return render(
        request,
        partial(request, "annotator/job_detail.html", "job-card"),
        {"project": job.project, "job": job},
    )


@access.login_required
@require_GET
def gold_freshness(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    """The freshness panel (htmx polls it), or a page holding it."""
    project = access.project_for(
        request.user, project_id, access.Can.REVIEW, refusal=GOLD_REFUSAL
    )
    return render(
        request,
        partial(request, PANEL, "gold-status"),
        gold_panel(request, project, polled=True),
    )
