"""Jobs pages and the gold freshness panel: full pages and htmx partials, who sees
what, and the adjudication page while a refresh runs and before any ever ran."""

from __future__ import annotations

import os
import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from annotator.gold import gold_is_fresh, refresh_gold
from annotator.models import Job, JobState, Membership
from annotator.services import jobs
from tests.annotator.test_adjudication_views import project as project  # noqa: F401
from tests.annotator.test_gold import rate, spans
from tests.factories import UserFactory, logged_in, member

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
POLLING = 'hx-trigger="every 2s"'


@pytest.fixture
def queue_only(settings):
    """Enqueued tasks wait: nothing runs the job but the test."""
    settings.TASKS = DUMMY


def running_job(project, *, done=40, total=100) -> Job:
    """A refresh running in a live worker (our parent process stands for it)."""
    return Job.objects.create(
        project=project,
        kind="gold_refresh",
        state=JobState.RUNNING,
        worker=f"{socket.gethostname()}:{os.getppid()}",
        started_at=timezone.now(),
        done_units=done,
        total_units=total,
        note="topic: 3 spans decided (dimension 1 of 3)",
    )


def test_the_jobs_list_full_and_partial_polls_while_a_job_is_active(client, project):
    boss = member(project, "boss", Membership.Role.MANAGER)
    logged_in(client, boss)
    done = jobs.request_gold_refresh(project, by=boss)
    url = reverse("project-jobs", args=[project.pk])
    page = client.get(url).content.decode()
    assert "<!doctype html>" in page and "Jobs of" in page
    assert reverse("job-detail", args=[done.pk]) in page and "boss" in page
    assert POLLING not in page  # nothing left to watch
    running_job(project)
    partial = client.get(url, **HTMX).content.decode()
    assert "<!doctype html>" not in partial and 'id="job-list"' in partial
    assert POLLING in partial and "40 %" in partial


def test_a_job_page_shows_progress_and_polls_until_done(client, project):
    boss = member(project, "boss", Membership.Role.MANAGER)
    logged_in(client, boss)
    job = running_job(project)
    url = reverse("job-detail", args=[job.pk])
    page = client.get(url).content.decode()
    assert "<!doctype html>" in page and f"Job {job.pk}" in page
    assert (
        '<progress class="job-progress" aria-labelledby="job-progress-label" '
        'max="100" value="40">' in page
    )
    assert '<dt id="job-progress-label">Progress</dt>' in page  # the bar's name
    assert "40 % (40 of 100 ratings)" in page and POLLING in page
    Job.objects.filter(pk=job.pk).update(
        state=JobState.DONE, done_units=100, finished_at=timezone.now()
    )
    partial = client.get(url, **HTMX).content.decode()
    assert "<!doctype html>" not in partial and 'id="job-card"' in partial
    assert POLLING not in partial and "100 %" in partial


def test_a_failed_job_says_what_failed(client, project):
    boss = member(project, "boss", Membership.Role.MANAGER)
    logged_in(client, boss)
    project.gold_methods = ["model", "model"]
    project.save()
    job = jobs.request_gold_refresh(project, by=boss)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert 'role="alert">Project' in page
    assert "gold_methods entry 2, &#x27;model&#x27;, is listed twice" in page


@pytest.mark.parametrize("role", [Membership.Role.REVIEWER, Membership.Role.CODER])
def test_coders_and_reviewers_never_see_jobs(client, project, role):
    job = running_job(project)
    logged_in(client, member(project, "someone", role))
    for url in (
        reverse("project-jobs", args=[project.pk]),
        reverse("job-detail", args=[job.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert (
            "Only the project&#x27;s managers see its jobs."
            in response.content.decode()
        )


def test_a_stranger_is_not_told_a_job_exists(client, project):
    job = running_job(project)
    logged_in(client, UserFactory(username="stranger"))
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("job-detail", args=[job.pk + 99])).status_code == 404


def test_a_manager_asks_for_a_refresh_and_lands_on_its_job(client, project):
    boss = member(project, "boss", Membership.Role.MANAGER)
    logged_in(client, boss)
    url = reverse("project-refresh-gold", args=[project.pk])
    response = client.post(url)
    job = Job.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.DONE and job.options == {"force": True}
    assert client.post(url, **HTMX)["HX-Redirect"].startswith("/jobs/")
    assert client.get(url).status_code == 405


def test_the_panel_full_and_partial_while_refreshing(client, project):
    refresh_gold(project)
    reviewer = member(project, "rev", Membership.Role.REVIEWER)
    logged_in(client, reviewer)
    job = running_job(project)
    url = reverse("project-gold-status", args=[project.pk])
    page = client.get(url).content.decode()
    assert "<!doctype html>" in page and "Gold as of <time" in page
    partial = client.get(url, **HTMX).content.decode()
    assert "<!doctype html>" not in partial and 'id="gold-status"' in partial
    assert "refreshing… (40 %)" in partial and POLLING in partial
    assert reverse("job-detail", args=[job.pk]) not in partial  # not a manager's
    Job.objects.filter(pk=job.pk).update(state=JobState.DONE)
    partial = client.get(url, **HTMX).content.decode()
    assert POLLING not in partial and "reload the page" in partial
    logged_in(client, member(project, "boss", Membership.Role.MANAGER))
    assert (
        reverse("job-detail", args=[job.pk]) in client.get(url, **HTMX).content.decode()
    )


def test_the_adjudication_page_reads_the_last_gold_while_a_refresh_runs(
    client, project, queue_only
):
    """The previous gold's queue, a 'refreshing' note, and the newer change
    queued for a worker rather than computed in the request."""
    refresh_gold(project)
    s = spans(project)
    rate(project, UserFactory(username="late"), s[5], topic="arms")
    assert not gold_is_fresh(project)
    running_job(project, done=1, total=4)
    logged_in(client, member(project, "rev", Membership.Role.REVIEWER))
    page = client.get(reverse("project-adjudicate", args=[project.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<strong class="waiting-count">3</strong>' in html  # the previous gold's
    assert "Gold as of <time" in html and "refreshing… (25 %)" in html
    assert POLLING in html
    assert Job.objects.filter(state=JobState.QUEUED).count() == 1
    assert not gold_is_fresh(project)  # nothing computed in the request
    # The card swapped in by htmx carries no second panel.
    partial = client.get(reverse("project-adjudicate", args=[project.pk]), **HTMX)
    assert 'id="gold-status"' not in partial.content.decode()


def test_the_adjudication_page_before_any_gold_was_ever_computed(
    client, project, queue_only
):
    logged_in(client, member(project, "rev", Membership.Role.REVIEWER))
    response = client.get(reverse("project-adjudicate", args=[project.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "No gold computed yet, refresh waiting for a worker…" in html
    assert POLLING in html
    assert Job.objects.get().state == JobState.QUEUED


def test_a_job_without_a_project_is_its_requesters_and_staffs(client):
    owner = UserFactory(username="owner")
    job = Job.objects.create(kind="corpus_import", requested_by=owner, note="waiting")
    url = reverse("job-detail", args=[job.pk])
    logged_in(client, UserFactory(username="someone-else"))
    assert client.get(url).status_code == 404
    for user in (owner, UserFactory(username="admin", is_staff=True)):
        logged_in(client, user)
        page = client.get(url)
        assert page.status_code == 200
        assert f"Job {job.pk}: corpus import" in page.content.decode()
        partial = client.get(url, **HTMX).content.decode()
        assert partial.lstrip().startswith('<section id="job-card"')


def test_operators_read_jobs_in_the_admin_and_cannot_change_them(client, project):
    job = running_job(project)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    listing = client.get(reverse("admin:annotator_job_changelist"))
    assert listing.status_code == 200 and job.note in listing.text
    shown = client.get(reverse("admin:annotator_job_change", args=[job.pk]))
    # Read-only: the page has no save button.
    assert shown.status_code == 200 and 'name="_save"' not in shown.text
    assert client.get(reverse("admin:annotator_job_add")).status_code == 403
