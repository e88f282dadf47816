"""Archives and restores from the web as jobs: the archive job's rows and download
(byte for byte what the command writes), a failure storing nothing, the restore
page full and partial, a restore making its requester the manager, a bad archive
naming its line and restoring nothing, and who sees what.

Tests run on the suite's ImmediateBackend (the job runs on enqueue) unless they
queue only; the real worker is tests/annotator/test_worker.py.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from annotator.archive import TABLES, ArchiveError
from annotator.models import (
    Codebook,
    Job,
    JobChunk,
    JobFile,
    JobKind,
    JobState,
    Membership,
    Project,
)
from annotator.services import archive_jobs, job_files
from annotator.services.jobs import request_gold_refresh
from annotator.tasks import run_job
from corpus.models import Corpus
from tests.factories import UserFactory, make_project

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
POLLING = 'hx-trigger="every 2s"'


@pytest.fixture
def project(manager):
    project = make_project(documents=3, spans_per_document=4, coders=("ana", "bo"))
    Membership.objects.create(
        project=project, user=manager, role=Membership.Role.MANAGER
    )
    return project


def command(project: Project, path) -> None:
    call_command(
        "archive_project", str(project.pk), "-o", str(path), stderr=io.StringIO()
    )


def download(client, job: Job) -> bytes:
    response = client.get(reverse("job-archive-download", args=[job.pk]))
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def row_counts() -> dict[str, int]:
    """Rows of every archived table, and users: what a failed restore must keep."""
    counts = {t.name: t.model.objects.count() for t in TABLES}
    return {**counts, "user": get_user_model().objects.count()}


# --- archiving ------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_archive_this_project_queues_the_job_and_lands_on_its_page(
    manager_client, project, htmx
):
    page = manager_client.get(project.get_absolute_url()).text
    assert "Archive this project" in page
    response = manager_client.post(
        reverse("project-archive", args=[project.pk]), **(HTMX if htmx else {})
    )
    job = Job.objects.get(kind=JobKind.ARCHIVE)
    url = reverse("job-detail", args=[job.pk])
    if htmx:
        assert response["HX-Redirect"] == url
    else:
        assert response.status_code == 303 and response["Location"] == url
    assert job.project == project and job.state == JobState.DONE, job.error
    # Progress counted rows as they passed: all of them, and no more.
    assert job.units == "rows" and job.done_units == job.total_units
    assert job.result["rows"] == job.total_units
    stored = JobFile.objects.get(job=job)
    assert stored.role == JobFile.Role.OUTPUT and job.result["size"] == stored.size
    full = manager_client.get(url)
    part = manager_client.get(url, **HTMX)
    link = reverse("job-archive-download", args=[job.pk])
    for html in (full.text, part.text):
        assert f'<a href="{link}" download>Download the archive (' in html
        assert f"{job.result['rows']} rows archived." in html
        assert POLLING not in html
    assert "<html" in full.text and "<html" not in part.text

    response = manager_client.get(link)
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{archive_jobs.archive_name(project)}"'
    )
    data = b"".join(response.streaming_content)
    assert len(data) == stored.size == int(response["Content-Length"])
    lines = gzip.decompress(data).decode().splitlines()
    assert json.loads(lines[0])["project"]["id"] == project.pk
    assert json.loads(lines[-1])["end"] is True
    assert len(lines) - 2 == job.result["rows"]


def test_the_download_is_byte_for_byte_what_the_command_writes(
    manager_client, project, manager, tmp_path
):
    """Same clock, same file name (gzip records both): same bytes."""
    with (
        mock.patch("gzip.time", mock.Mock(time=lambda: 1_765_000_000.0)),
        mock.patch(
            "annotator.archive.writing.timezone.now",
            return_value=project.created_at,
        ),
    ):
        job = archive_jobs.request_archive(project, by=manager)
        path = tmp_path / archive_jobs.archive_name(project)
        command(project, path)
    assert download(manager_client, Job.objects.get(pk=job.pk)) == path.read_bytes()


def test_an_archive_larger_than_a_chunk_is_stored_and_streamed_in_chunks(
    manager_client, manager, settings
):
    """Spans of incompressible text: several chunks, read back in order."""
    big = make_project(documents=1, spans_per_document=1, coders=("ana",))
    Membership.objects.create(project=big, user=manager, role=Membership.Role.MANAGER)
    document = big.corpus.documents.get()
    document.text = os.urandom(1_500_000).hex()  # 3 MB, about half of it gzip'd
    document.save()
    job = archive_jobs.request_archive(big, by=manager)
    stored = JobFile.objects.get(job=job)
    assert JobChunk.objects.filter(file=stored).count() >= 2
    data = download(manager_client, job)
    assert gzip.decompress(data).count(b"\n") == job.result["rows"] + 2


def test_a_failing_archive_says_why_and_stores_nothing(manager_client, project):
    def half_then_fail(project, out):
        noise = os.urandom(3 * job_files.CHUNK_BYTES)  # incompressible: 3 chunks
        out.write(gzip.compress(noise))
        raise OSError("disk on fire")

    with mock.patch.object(archive_jobs, "write_archive", half_then_fail):
        manager_client.post(reverse("project-archive", args=[project.pk]))
    job = Job.objects.get(kind=JobKind.ARCHIVE)
    assert job.state == JobState.FAILED and job.result == {}
    assert job.error == (
        "An unexpected error stopped the work (OSError: disk on fire)."
    )
    assert not JobFile.objects.exists() and not JobChunk.objects.exists()
    page = manager_client.get(reverse("job-detail", args=[job.pk])).text
    assert "disk on fire" in page and "Download the archive" not in page
    download_url = reverse("job-archive-download", args=[job.pk])
    assert manager_client.get(download_url).status_code == 404


def test_only_the_project_s_managers_get_its_archive(client, project, manager):
    job = archive_jobs.request_archive(project, by=manager)
    url = reverse("job-archive-download", args=[job.pk])
    reviewer = UserFactory(username="rev")
    Membership.objects.create(
        project=project, user=reviewer, role=Membership.Role.REVIEWER
    )
    assert client.get(url).status_code == 302  # to the login page
    for user, status in (
        (get_user_model().objects.get(username="ana"), 403),  # a coder
        (reviewer, 403),
        (UserFactory(username="stranger"), 404),
        (UserFactory(username="ops", is_staff=True), 200),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
        page = client.get(project.get_absolute_url()).text
        assert ("Archive this project" in page) is (status == 200), user
    client.force_login(UserFactory(username="stranger-2"))
    archive = reverse("project-archive", args=[project.pk])
    assert client.post(archive).status_code == 404
    refresh = request_gold_refresh(project, by=manager)  # no archive: 404
    client.force_login(manager)
    not_an_archive = reverse("job-archive-download", args=[refresh.pk])
    assert client.get(not_an_archive).status_code == 404


# --- restoring ------------------------------------------------------------------------


@pytest.fixture
def restorer(manager):
    """In the Managers group (may create projects), in no project."""
    user = UserFactory(username="restorer")
    user.groups.add(*manager.groups.all())
    return user


@pytest.fixture
def restorer_client(client, restorer):
    client.force_login(restorer)
    return client


def archived(project: Project, tmp_path) -> bytes:
    """The project's archive, then the project gone from this database (with
    its corpus, codebook and every user but the restorer)."""
    path = tmp_path / "p.jsonl.gz"
    command(project, path)
    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()
    get_user_model().objects.exclude(username="restorer").delete()
    return path.read_bytes()


def upload(data: bytes, name: str = "p.jsonl.gz") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/gzip")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_restore_page_full_and_partial_and_its_inline_errors(manager_client, htmx):
    url = reverse("project-restore")
    page = manager_client.get(url, **(HTMX if htmx else {})).text
    assert 'id="restore-form"' in page and ("<html" in page) is not htmx
    response = manager_client.post(url, {}, **(HTMX if htmx else {}))
    assert response.status_code == 200 and "This field is required." in response.text
    assert ("<html" in response.text) is not htmx
    assert not Job.objects.exists()
    home = manager_client.get(reverse("home")).text
    assert f'href="{url}"' in home


def test_an_archive_over_the_limit_is_refused_before_it_is_stored(
    manager_client, settings
):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 100
    response = manager_client.post(
        reverse("project-restore"), {"archive": upload(b"x" * 101, "big.gz")}
    )
    assert "big.gz: 101 bytes is over the 100-byte limit" in response.text
    assert not Job.objects.exists() and not JobChunk.objects.exists()


def test_the_restore_page_takes_an_archive_past_the_body_limit_only_from_managers(
    client, manager, settings
):
    """The body limit (DATA_UPLOAD_MAX_MEMORY_SIZE) gives way to
    ARCHIVE_UPLOAD_MAX_BYTES on the restore page, for those who may restore."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.TASKS = DUMMY
    url = reverse("project-restore")
    client.force_login(UserFactory(username="plain"))
    response = client.post(url, {"archive": upload(b"x" * 5000)})
    assert response.status_code == 413 and "The request body is" in response.text
    client.force_login(manager)
    assert client.post(url, {"archive": upload(b"x" * 5000)}).status_code == 303
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 100
    big = upload(b"x" * (1024 * 1024 + 500))
    response = client.post(url, {"archive": big})
    assert response.status_code == 413 and "at most 100 bytes" in response.text
    assert "manage.py restore_project" in response.text
    assert Job.objects.count() == 1


def test_a_restore_makes_the_requester_its_manager_and_links_it(
    restorer_client, project, tmp_path
):
    data = archived(project, tmp_path)
    response = restorer_client.post(
        reverse("project-restore"), {"archive": upload(data)}
    )
    job = Job.objects.get(kind=JobKind.RESTORE)
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.state == JobState.DONE, job.error
    assert job.project is None and job.done_units == job.total_units == len(data)
    restored = Project.objects.get()
    assert job.result == {"project": restored.pk, "project_name": restored.name}
    # The requester is its manager; the archive's coders came back as coders,
    # without passwords, and nobody else gained a right.
    roles = dict(restored.memberships.values_list("user__username", "role"))
    assert roles == {
        "restorer": "manager",
        "manager": "manager",  # the archive's, an account made anew: no password
        "ana": "coder",
        "bo": "coder",
    }
    assert not get_user_model().objects.filter(is_staff=True).exists()
    made = get_user_model().objects.exclude(username="restorer")
    assert not any(user.has_usable_password() for user in made)
    assert not JobFile.objects.exists()  # the upload is gone with the job
    for page in (
        restorer_client.get(response["Location"]).text,
        restorer_client.get(response["Location"], **HTMX).text,
    ):
        assert (
            f'Restored as project <a href="{restored.get_absolute_url()}">'
            f"{restored.name}</a>, managed by restorer." in page
        )
    assert restorer_client.get(restored.get_absolute_url()).status_code == 200


def test_a_bad_archive_fails_with_its_line_and_restores_nothing(
    restorer_client, project, tmp_path
):
    lines = gzip.decompress(archived(project, tmp_path)).decode().splitlines()
    bad = list(lines)
    bad[3] = '{"t": "corpus.document", "id": 1, "f": {"corpus_id": 99'
    before = row_counts()
    restorer_client.post(
        reverse("project-restore"),
        {"archive": upload(gzip.compress(("\n".join(bad) + "\n").encode()))},
    )
    job = Job.objects.get(kind=JobKind.RESTORE)
    assert job.state == JobState.FAILED and job.result == {}
    assert job.error.startswith("p.jsonl.gz, line 4: not JSON")
    assert job.error.endswith("Nothing was restored.")
    assert row_counts() == before
    assert not JobFile.objects.exists()
    page = restorer_client.get(reverse("job-detail", args=[job.pk])).text
    assert "p.jsonl.gz, line 4: not JSON" in page


def test_a_restore_job_is_its_requester_s_and_staff_s(
    client, manager_client, manager, settings
):
    settings.TASKS = DUMMY
    manager_client.post(reverse("project-restore"), {"archive": upload(b"x")})
    url = reverse("job-detail", args=[Job.objects.get().pk])
    assert "waiting for a worker" in manager_client.get(url).text
    other = UserFactory(username="other-manager")
    other.groups.add(*manager.groups.all())
    for user, status in (
        (other, 404),
        (UserFactory(username="coder"), 404),
        (UserFactory(username="ops", is_staff=True), 200),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(UserFactory(username="plain"))
    assert client.get(reverse("project-restore")).status_code == 403
    with pytest.raises(ArchiveError):  # the worker's own record keeps it too
        run_job.call(Job.objects.get().pk)
    job = Job.objects.get()
    assert job.state == JobState.FAILED
    assert "not a complete project archive" in job.error


def test_restoring_ones_own_archive_keeps_ones_manager_row_and_no_other(
    client, project, manager, tmp_path
):
    """A manager archives, the project is deleted, the manager restores it from
    the web: the archive's manager row is the requester's own, so it stands. An
    archive making another existing account a manager is refused, in words a
    web user can act on, and restores nothing."""
    boss = UserFactory(username="boss")
    Membership.objects.create(project=project, user=boss, role=Membership.Role.MANAGER)
    path = tmp_path / "p.jsonl.gz"
    command(project, path)
    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()
    client.force_login(manager)
    before = row_counts()
    client.post(reverse("project-restore"), {"archive": upload(path.read_bytes())})
    failed = Job.objects.get(kind=JobKind.RESTORE)
    assert failed.state == JobState.FAILED
    assert "would make the existing account 'boss' a manager" in failed.error
    assert "restore_project --allow-managers" in failed.error
    assert row_counts() == before
    boss.delete()  # now the archive makes the account anew, as its manager
    client.post(reverse("project-restore"), {"archive": upload(path.read_bytes())})
    done = Job.objects.filter(kind=JobKind.RESTORE).order_by("-pk").first()
    assert done.state == JobState.DONE, done.error
    roles = dict(
        Project.objects.get().memberships.values_list("user__username", "role")
    )
    assert roles["manager"] == roles["boss"] == "manager"
