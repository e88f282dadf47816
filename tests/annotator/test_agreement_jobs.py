"""The agreement bootstrap of large projects as a background job: the page and the
API before any result, while a job runs (the previous result, 'refreshing'), after
it finished; supersede; the stored intervals are the in-request ones; who sees jobs.

"Large" is AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0 here (every dimension with a
pairable unit); a real db_worker on PostgreSQL runs one end to end at the bottom.
"""

from __future__ import annotations

import os
import socket

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator.agreement.interval_policy import METHOD, made_by
from annotator.agreement_report import project_report
from annotator.models import AgreementIntervals, Job, JobKind, JobState, Membership
from annotator.services import agreement_jobs, claim_next_span, submit_annotation
from annotator.services.jobs import request_job
from annotator.tasks import run_job
from tests.annotator.test_worker import wait_for
from tests.annotator.test_worker import workers as workers  # noqa: F401
from tests.factories import logged_in, make_project, member

HTMX = {"HTTP_HX_REQUEST": "true"}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
POLLING = 'hx-trigger="every 2s"'
TOPICS = ["arms", "trade", "other"]
STANCES = ["hostile", "neutral", "friendly"]


def code(project, name: str, limit: int | None = None) -> int:
    """The coder codes up to ``limit`` spans (all left); b disagrees on a few."""
    coder = project.memberships.get(user__username=name).user
    done = 0
    while limit is None or done < limit:
        assignment = claim_next_span(project=project, coder=coder)
        if assignment is None:
            break
        s = assignment.span_id + (
            1 if name == "b" and assignment.span_id % 4 == 0 else 0
        )
        labels = {"topic": TOPICS[s % 3], "stance": STANCES[(s // 3) % 3]}
        submit_annotation(coder=coder, assignment=assignment, labels=labels)
        done += 1
    return done


def coded(spans: int = 40):
    """Two coders; b leaves one span for a later change of the data."""
    project = make_project(
        documents=2, spans_per_document=spans // 2, coders=("a", "b")
    )
    code(project, "b", limit=code(project, "a") - 1)
    return project


@pytest.fixture
def big(settings):
    settings.AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = 0


@pytest.fixture
def queue_only(settings):
    """Enqueued tasks wait: nothing runs the job but the test."""
    settings.TASKS = DUMMY


def page(project) -> str:
    return reverse("project-agreement", args=[project.pk])


def panel(project) -> str:
    return reverse("project-agreement-intervals", args=[project.pk])


def api(project) -> str:
    return reverse("api-project-agreement", args=[project.pk])


def the_job(project) -> Job:
    return Job.objects.get(
        project=project, kind=JobKind.AGREEMENT, state__in=(JobState.QUEUED,)
    )


def figures(report) -> dict:
    """Every interval figure of a report, per dimension."""
    return {
        d.key: (
            d.alpha.ci_low,
            d.alpha.ci_high,
            d.alpha.p_below,
            d.alpha.n_valid,
            d.intervals,
        )
        for d in report.dimensions
    }


pytestmark = pytest.mark.django_db


def test_small_projects_compute_their_intervals_in_the_request_as_before(client):
    project = coded()
    logged_in(client, member(project, "boss", Membership.Role.MANAGER))
    html = client.get(page(project)).content.decode()
    assert 'id="intervals-status"' not in html and "not computed yet" not in html
    assert "(95% interval " in html
    body = client.get(api(project)).json()
    assert body["background_intervals"] is None
    assert {d["intervals"]["state"] for d in body["dimensions"]} == {"in_request"}
    assert not Job.objects.exists() and not AgreementIntervals.objects.exists()


def test_before_any_result_the_page_says_not_computed_yet_and_queues_a_job(
    client, big, queue_only
):
    project = coded()
    boss = member(project, "boss", Membership.Role.MANAGER)
    logged_in(client, boss)
    html = client.get(page(project)).content.decode()
    job = the_job(project)
    assert job.requested_by == boss
    assert "interval not computed yet (computing…)" in html
    assert (
        "Intervals of the largest dimensions not computed yet, waiting for a worker…"
        in html
    )
    assert reverse("job-detail", args=[job.pk]) in html and POLLING in html
    assert "(95% interval " not in html  # no verdict claims an interval
    card = client.get(page(project) + "?dimension=topic", **HTMX).content.decode()
    assert "<!doctype html>" not in card and 'id="card-topic"' in card
    assert "interval not computed yet (computing…)" in card
    client.get(page(project))  # a second look finds the job waiting
    assert Job.objects.filter(kind=JobKind.AGREEMENT).count() == 1


def test_the_job_stores_the_intervals_the_request_would_compute(big, queue_only):
    project = coded()
    status = agreement_jobs.refresh_intervals_if_stale(project)
    assert status.refreshing and status.stored is None
    assert run_job.call(status.job.pk) == (
        "intervals of 3 dimensions computed from 1,000 resamples each"
    )
    job = Job.objects.get(pk=status.job.pk)
    assert job.state == JobState.DONE and job.units == "resamples"
    assert job.total_units == 3000 and job.done_units == 3000
    report, status = agreement_jobs.report_with_intervals(project)
    assert status.current and not status.refreshing
    assert {d.intervals_from for d in report.dimensions} == {"current"}
    # The same numbers as the whole report computed in one go: what tests and
    # published figures pin stays pinned.
    assert figures(report) == figures(project_report(project))
    assert report.to_dict()["dimensions"][0]["alpha"]["ci_low"] is not None


def as_version_1(dimension: dict) -> dict:
    """A stored dimension in the form before version 2: percentile-only
    intervals, alpha's without method, the kappa family's as [low, high]."""
    alpha = dimension["alpha"]
    return {
        "level": dimension["level"],
        "alpha": {
            k: alpha[k]
            for k in ("ci_low", "ci_high", "confidence", "p_below")
            + ("n_resamples", "n_valid", "seed")
        },
        "kappa": {
            name: [e["ci_low"], e["ci_high"]] for name, e in dimension["kappa"].items()
        },
    }


def test_a_version_1_result_is_stale_read_back_and_recomputed(big, queue_only):
    project = coded()
    run_job.call(agreement_jobs.refresh_intervals_if_stale(project).job.pk)
    stored = AgreementIntervals.objects.get(project=project)
    assert {d["version"] for d in stored.dimensions.values()} == {2}
    old = {key: as_version_1(d) for key, d in stored.dimensions.items()}
    AgreementIntervals.objects.filter(pk=stored.pk).update(dimensions=old)
    # Same data, same parameters, but an older form: stale, so a job is queued ...
    report, status = agreement_jobs.report_with_intervals(project)
    assert status.stored is not None and not status.current and status.refreshing
    # ... and meanwhile the old intervals still read, labelled stale, percentile.
    topic = report.dimensions[0]
    assert {d.intervals_from for d in report.dimensions} == {"stale"}
    assert topic.intervals["fleiss_kappa"] == tuple(
        old["topic"]["kappa"]["fleiss_kappa"]
    )
    assert topic.alpha.ci_low == old["topic"]["alpha"]["ci_low"]
    assert set(topic.interval_methods.values()) == {"percentile"}
    run_job.call(the_job(project).pk)
    report, status = agreement_jobs.report_with_intervals(project)
    assert status.current
    stored = AgreementIntervals.objects.get(project=project)
    assert {d["version"] for d in stored.dimensions.values()} == {2}
    assert figures(report) == figures(project_report(project))
    for name, method in report.dimensions[0].interval_methods.items():
        assert method in made_by(METHOD[name]), name


def test_while_a_job_runs_the_page_shows_the_previous_result_with_its_time(
    client, big, queue_only
):
    project = coded()
    run_job.call(agreement_jobs.refresh_intervals_if_stale(project).job.pk)
    before = AgreementIntervals.objects.get(project=project)
    old = figures(agreement_jobs.report_with_intervals(project)[0])
    code(project, "b")  # the data changes: the stored intervals are stale
    logged_in(client, member(project, "rev", Membership.Role.REVIEWER))
    html = client.get(page(project)).content.decode()
    job = the_job(project)
    when = before.computed_at.astimezone().strftime("%H:%M")
    assert f"as of {when}, refreshing…" in html
    assert "from older data, waiting for a worker…" in html
    low, high = old["topic"][0], old["topic"][1]
    assert f"[{low:.3f}, {high:.3f}]" in html  # the previous interval, labelled
    assert "(95% interval " not in html  # but no verdict rests on it
    assert "Job " not in html  # reviewers never see jobs
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        worker=f"{socket.gethostname()}:{os.getppid()}",  # a live worker
        done_units=1500,
        total_units=6000,
    )
    polled = client.get(panel(project), **HTMX).content.decode()
    assert "<!doctype html>" not in polled and POLLING in polled
    assert "computing… (25 %)" in polled
    Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
    run_job.call(job.pk)
    polled = client.get(panel(project), **HTMX).content.decode()
    assert "reload the page" in polled and POLLING not in polled
    html = client.get(page(project)).content.decode()
    assert "refreshing" not in html and "not computed yet" not in html
    assert "from older data" not in html and "(95% interval " in html
    full = client.get(panel(project)).content.decode()
    assert "<!doctype html>" in full and 'id="intervals-status"' in full


def test_the_api_says_where_each_interval_came_from(client, big, queue_only):
    project = coded()
    boss = member(project, "boss", Membership.Role.MANAGER)
    reviewer = member(project, "rev", Membership.Role.REVIEWER)

    def get(user) -> dict:
        token, _ = Token.objects.get_or_create(user=user)
        return client.get(api(project), HTTP_AUTHORIZATION=f"Token {token}").json()

    body = get(boss)
    job = the_job(project)
    assert body["background_intervals"] == {
        "as_of": None,
        "current": False,
        "refreshing": True,
        "job": job.pk,
    }
    topic = body["dimensions"][0]
    assert topic["intervals"] == {
        "state": "missing",
        "as_of": None,
        "methods": {},
        "notes": {},
    }
    assert (
        topic["alpha"]["ci_low"] is None
        and topic["alpha"]["interval_state"] == "missing"
    )
    assert get(reviewer)["background_intervals"]["job"] is None
    run_job.call(job.pk)
    topic = get(reviewer)["dimensions"][0]
    assert topic["intervals"]["state"] == "current"
    assert topic["intervals"]["methods"]["fleiss_kappa"] in made_by(
        METHOD["fleiss_kappa"]
    )
    expected = project_report(project).to_dict()["dimensions"][0]
    assert topic["alpha"]["ci_low"] == expected["alpha"]["ci_low"]
    assert (
        topic["coefficients"]["fleiss_kappa"]["ci_high"]
        == (expected["coefficients"]["fleiss_kappa"]["ci_high"])
    )
    assert topic["coefficients"]["fleiss_kappa"]["interval_state"] == "current"
    code(project, "b")
    body = get(reviewer)
    topic = body["dimensions"][0]
    assert topic["intervals"]["state"] == "stale" and topic["intervals"]["as_of"]
    assert topic["alpha"]["ci_low"] == expected["alpha"]["ci_low"]  # labelled stale
    assert body["background_intervals"]["refreshing"] is True


def test_a_newer_request_supersedes_a_waiting_job(big, queue_only):
    project = coded()
    first = request_job(JobKind.AGREEMENT, project=project)
    second = request_job(JobKind.AGREEMENT, project=project)
    assert Job.objects.get(pk=first.pk).state == JobState.SUPERSEDED
    assert run_job.call(first.pk).startswith("skipped")
    assert not AgreementIntervals.objects.exists()
    run_job.call(second.pk)
    assert agreement_jobs.intervals_status(project).current
    # Asked again with nothing changed, a job finds them current and stores nothing.
    stored = AgreementIntervals.objects.get(project=project).computed_at
    third = request_job(JobKind.AGREEMENT, project=project)
    assert run_job.call(third.pk) == "the intervals were already current: nothing to do"
    assert AgreementIntervals.objects.get(project=project).computed_at == stored


def test_a_failed_job_keeps_the_previous_result_and_says_why(
    client, big, queue_only, monkeypatch
):
    project = coded()
    run_job.call(agreement_jobs.refresh_intervals_if_stale(project).job.pk)
    before = AgreementIntervals.objects.get(project=project)
    code(project, "b")

    def broken(*args, **kwargs):
        raise MemoryError("no room for the resamples")

    monkeypatch.setattr(agreement_jobs, "project_intervals", broken)
    job = agreement_jobs.refresh_intervals_if_stale(project).job
    with pytest.raises(MemoryError):
        run_job.call(job.pk)
    assert (
        AgreementIntervals.objects.get(project=project).dimensions == before.dimensions
    )
    logged_in(client, member(project, "boss", Membership.Role.MANAGER))
    polled = client.get(panel(project), **HTMX).content.decode()
    assert "The last computation failed: An unexpected error stopped the work" in polled


def test_coders_never_see_agreement_nor_its_jobs(client, big, queue_only):
    project = coded()
    coder = project.memberships.get(user__username="a").user
    logged_in(client, coder)
    assert client.get(page(project)).status_code == 403
    assert client.get(panel(project), **HTMX).status_code == 403
    job = request_job(JobKind.AGREEMENT, project=project)
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 403
    assert client.get(reverse("project-jobs", args=[project.pk])).status_code == 403


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_computes_the_intervals_the_page_then_shows(client, big, workers):
    project = coded()
    logged_in(client, member(project, "boss", Membership.Role.MANAGER))
    html = client.get(page(project)).content.decode()
    assert "interval not computed yet (computing…)" in html
    job = Job.objects.get(kind=JobKind.AGREEMENT)
    workers.start()
    wait_for(
        lambda: Job.objects.get(pk=job.pk).state == JobState.DONE, "the job", workers
    )
    assert Job.objects.get(pk=job.pk).done_units == 3000
    polled = client.get(panel(project), **HTMX).content.decode()
    assert "reload the page" in polled
    html = client.get(page(project)).content.decode()
    assert "not computed yet" not in html and "(95% interval " in html
    report = agreement_jobs.report_with_intervals(project)[0]
    assert figures(report) == figures(project_report(project))
