"""Real `manage.py db_worker` processes on PostgreSQL: enqueue → run → the page shows
the result (gold, imports, archives and restores); supersede and one-at-a-time
across workers; a worker killed mid-job.

Each test commits (transaction=True) so the worker, another process, sees its rows;
workers run on the database backend against the test database.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token

from annotator.gold import gold_is_fresh, refresh_gold
from annotator.models import (
    Annotation,
    Codebook,
    GoldRun,
    Job,
    JobChunk,
    JobFile,
    JobKind,
    JobState,
    Membership,
    Project,
)
from annotator.services import jobs
from annotator.services.archive_jobs import request_archive
from corpus.models import Corpus, Document
from tests.annotator.test_import_jobs import jsonl
from tests.annotator.test_jobs import coded_project, gold_rows
from tests.factories import logged_in, member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Workers:
    """Start and stop db_worker processes against the test database."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen] = []

    def start(self, *, pause: float = 0) -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
            f"{db['NAME']}",
            "TASKS_BACKEND": "database",
            "ANNOTATOR_JOB_TEST_PAUSE": str(pause),
        }
        log = (self.tmp_path / f"worker-{len(self.running)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload"]
            + ["--no-startup-delay", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)  # reaped: its pid is gone, as after a real crash

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful: after the job in hand
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(tmp_path, settings):
    settings.TASKS = DATABASE
    pool = Workers(tmp_path)
    yield pool
    pool.stop_all()


def wait_for(condition, what: str, workers: Workers, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker logs:\n{workers.logs()}")


def job_state(pk: int) -> str:
    return Job.objects.get(pk=pk).state


def failed_and_retried(job: Job, workers: Workers) -> Job:
    """After the worker running ``job`` was killed: a new worker sweeps it
    (failed, with its reason) before taking work, and runs its retry to done;
    returns ``job`` as it now is."""
    workers.start()  # sweeps before taking work
    wait_for(
        lambda: Job.objects.filter(retry_of=job, state=JobState.DONE).exists(),
        "the retry",
        workers,
    )
    return Job.objects.get(pk=job.pk)


def test_a_page_queues_the_refresh_a_worker_runs_and_then_shows_it(client, workers):
    project = coded_project()
    logged_in(client, member(project, "rev", Membership.Role.REVIEWER))
    adjudicate = reverse("project-adjudicate", args=[project.pk])
    panel = reverse("project-gold-status", args=[project.pk])
    html = client.get(adjudicate).content.decode()
    assert "No gold computed yet, refresh waiting for a worker…" in html
    job = Job.objects.get()
    assert job.state == JobState.QUEUED and not gold_rows(project)
    workers.start()
    wait_for(lambda: job_state(job.pk) == JobState.DONE, "the refresh", workers)
    partial = client.get(panel, HTTP_HX_REQUEST="true").content.decode()
    assert "reload the page" in partial and 'hx-trigger="every 2s"' not in partial
    html = client.get(adjudicate).content.decode()
    assert "Gold as of <time" in html and "refreshing" not in html
    assert '<strong class="waiting-count">4</strong>' in html  # every topic disputed
    token = Token.objects.create(user=member(project, "script", "reviewer"))
    response = client.get(
        reverse("api-gold", args=[project.pk]), HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response["X-Gold-Refreshing"] == "false" and response["X-Gold-As-Of"]
    assert response.json()["results"]
    result = DBTaskResult.objects.get(id=Job.objects.get(pk=job.pk).task_id)
    assert result.status == "SUCCESSFUL"


def test_a_superseded_refresh_is_skipped_by_the_worker(workers):
    project = coded_project()
    first = jobs.request_gold_refresh(project)
    second = jobs.request_gold_refresh(project, force=True)
    assert job_state(first.pk) == JobState.SUPERSEDED
    workers.start()
    wait_for(lambda: job_state(second.pk) == JobState.DONE, "the refresh", workers)
    assert job_state(first.pk) == JobState.SUPERSEDED
    skipped = DBTaskResult.objects.get(id=first.task_id)
    assert skipped.status == "SUCCESSFUL"
    assert skipped.return_value.startswith("skipped")
    assert GoldRun.objects.filter(project=project).count() == 3  # one run, 3 dims


def test_two_workers_run_one_refresh_of_a_project_at_a_time(workers):
    project = coded_project()
    first = jobs.request_gold_refresh(project, force=True)
    slow = workers.start(pause=1)  # a second per step: still running below
    wait_for(lambda: job_state(first.pk) == JobState.RUNNING, "the first", workers)
    second = jobs.request_gold_refresh(project, force=True)
    workers.start()
    wait_for(
        lambda: "already running" in Job.objects.get(pk=second.pk).note,
        "the second to wait its turn",
        workers,
    )
    # Never two at once (the first may have finished by now on a loaded machine;
    # the order of their times below is what proves they took turns).
    assert Job.objects.filter(state=JobState.RUNNING).count() <= 1
    wait_for(lambda: job_state(second.pk) == JobState.DONE, "both", workers)
    assert job_state(first.pk) == JobState.DONE
    first, second = Job.objects.get(pk=first.pk), Job.objects.get(pk=second.pk)
    assert second.started_at >= first.finished_at
    assert slow.poll() is None  # the worker carries on after its job


def test_a_worker_killed_mid_job_leaves_the_gold_as_it_was_and_is_retried(workers):
    project = coded_project()
    refresh_gold(project)
    before = gold_rows(project)
    runs = GoldRun.objects.count()
    job = jobs.request_gold_refresh(project, force=True)  # rewrites every row
    victim = workers.start(pause=30)
    # Progress past the first dimension: its rows are written, not committed.
    wait_for(
        lambda: Job.objects.get(pk=job.pk).done_units > 0, "the first step", workers
    )
    assert gold_rows(project) == before  # nobody sees uncommitted rows
    workers.kill(victim)
    job = Job.objects.get(pk=job.pk)
    assert job.state == JobState.RUNNING  # nobody could say otherwise yet
    assert gold_rows(project) == before and GoldRun.objects.count() == runs

    job = failed_and_retried(job, workers)
    assert job.state == JobState.FAILED
    assert job.error == (
        f"The worker running this job ({job.worker}) stopped before it finished. "
        "Nothing it computed was kept: the gold is as it was before."
    )
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"
    retry = Job.objects.get(retry_of=job)
    assert retry.attempt == 2 and retry.options == {"force": True}
    assert gold_is_fresh(project)
    after = gold_rows(project)
    assert len(after) == len(before) and after != before  # new runs named
    assert f"retried as job {retry.pk}" in workers.logs()


# --- corpus imports ------------------------------------------------------------------


def import_upload(client, name: str, documents: int):
    data = jsonl(documents).encode()
    return client.post(
        reverse("corpus-import"),
        {
            "new_corpus_name": name,
            "segmentation": "line",
            "files": [SimpleUploadedFile("docs.jsonl", data)],
        },
    )


def test_a_web_import_is_queued_a_worker_runs_it_and_its_page_shows_the_corpus(
    client, manager, workers
):
    client.force_login(manager)
    response = import_upload(client, "By a worker", 1500)
    job = Job.objects.get()
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.QUEUED and JobFile.objects.filter(job=job).exists()
    assert "waiting for a worker" in client.get(response["Location"]).text
    workers.start()
    wait_for(lambda: job_state(job.pk) == JobState.DONE, "the import", workers)
    corpus = Corpus.objects.get(name="By a worker")
    page = client.get(response["Location"], HTTP_HX_REQUEST="true").text
    assert (
        f'Corpus <a href="{corpus.get_absolute_url()}">By a worker</a> imported: '
        "1500 documents, 3000 spans."
    ) in page
    assert 'hx-trigger="every 2s"' not in page
    assert not JobFile.objects.exists()


def test_a_worker_killed_mid_import_leaves_no_corpus_and_the_import_is_retried(
    client, manager, workers
):
    client.force_login(manager)
    import_upload(client, "Killed", 10)
    job = Job.objects.get()
    victim = workers.start(pause=5)  # seconds after each document read
    wait_for(
        lambda: Job.objects.get(pk=job.pk).done_units > 0, "a document read", workers
    )
    # The corpus row and what was read are written, not committed.
    assert not Corpus.objects.filter(name="Killed").exists()
    workers.kill(victim)
    assert job_state(job.pk) == JobState.RUNNING  # nobody could say otherwise yet
    assert not Corpus.objects.exists() and not Document.objects.exists()

    job = failed_and_retried(job, workers)
    assert job.state == JobState.FAILED
    assert job.error == (
        f"The worker running this job ({job.worker}) stopped before it finished. "
        "Nothing it computed was kept: no document of the upload was imported."
    )
    assert Corpus.objects.get(name="Killed").documents.count() == 10
    assert not JobFile.objects.exists()


# --- archives and restores -----------------------------------------------------------


def test_an_archive_and_its_restore_run_in_a_worker_and_their_pages_show_them(
    client, manager, workers
):
    project = coded_project()
    Membership.objects.create(
        project=project, user=manager, role=Membership.Role.MANAGER
    )
    client.force_login(manager)
    response = client.post(reverse("project-archive", args=[project.pk]))
    job = Job.objects.get(kind=JobKind.ARCHIVE)
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert "waiting for a worker" in client.get(response["Location"]).text
    workers.start()
    wait_for(lambda: job_state(job.pk) == JobState.DONE, "the archive", workers)
    job = Job.objects.get(pk=job.pk)
    assert job.done_units == job.total_units == job.result["rows"]
    page = client.get(response["Location"], HTTP_HX_REQUEST="true").text
    assert "Download the archive (" in page
    download = client.get(reverse("job-archive-download", args=[job.pk]))
    data = b"".join(download.streaming_content)
    assert gzip.decompress(data).count(b"\n") == job.result["rows"] + 2

    # Into this database once the project, its corpus and codebook are gone.
    counts = {
        "memberships": project.memberships.count(),
        "annotations": Annotation.objects.filter(project=project).count(),
    }
    name = project.name
    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()
    response = client.post(
        reverse("project-restore"),
        {"archive": SimpleUploadedFile("p.jsonl.gz", data)},
    )
    restore = Job.objects.get(kind=JobKind.RESTORE)
    assert response["Location"] == reverse("job-detail", args=[restore.pk])
    wait_for(lambda: job_state(restore.pk) == JobState.DONE, "the restore", workers)
    restored = Project.objects.get()
    assert restored.name == name
    assert restored.memberships.get(user=manager).role == Membership.Role.MANAGER
    assert restored.memberships.count() == counts["memberships"]
    assert Annotation.objects.filter(project=restored).count() == counts["annotations"]
    page = client.get(response["Location"]).text
    assert f'Restored as project <a href="{restored.get_absolute_url()}">' in page
    assert not JobFile.objects.filter(job=restore).exists()


def test_a_worker_killed_mid_archive_stores_no_archive_and_the_retry_writes_it(
    manager, workers
):
    project = coded_project()
    job = request_archive(project, by=manager)
    victim = workers.start(pause=5)  # seconds after each write past the first row
    wait_for(
        lambda: Job.objects.get(pk=job.pk).done_units > 0, "a row written", workers
    )
    workers.kill(victim)
    assert not JobFile.objects.exists() and not JobChunk.objects.exists()
    assert failed_and_retried(job, workers).error.endswith(
        "Nothing it computed was kept: no part of the archive was stored."
    )
    retry = Job.objects.get(retry_of=job)
    assert list(JobFile.objects.values_list("job", flat=True)) == [retry.pk]
