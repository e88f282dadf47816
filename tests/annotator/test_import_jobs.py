"""Corpus imports as jobs: the upload stored in chunks, the form's checks at once,
the job's page (full and partial) with its result or its error, who sees it, the
corpora list's panel, and a dead worker's import retried from the stored upload.

Tests run on the suite's ImmediateBackend (the job runs on enqueue) unless they
queue only; the real worker is tests/annotator/test_worker.py.
"""

from __future__ import annotations

import socket
from contextlib import nullcontext

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse

from annotator.models import Job, JobChunk, JobFile, JobKind, JobState
from annotator.services import job_files
from annotator.services.corpus_import import request_corpus_import, run_corpus_import
from annotator.services.job_sweep import sweep_orphaned_jobs
from annotator.tasks import run_job
from corpus.db import portable
from corpus.importing import ImportFailed
from corpus.models import Corpus, Document, Span
from tests.annotator.test_jobs import dead_pid
from tests.factories import CorpusFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
POLLING = 'hx-trigger="every 2s"'
OPTIONS = {
    "corpus": None,
    "new_corpus_name": "Queued",
    "segmentation": "line",
    "exclude_patterns": [],
    "language": "en",
}


@pytest.fixture
def queue_only(settings):
    settings.TASKS = DUMMY


def upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"))


def jsonl(documents: int) -> str:
    return "".join(
        f'{{"title": "Doc {n}", "text": "Line one of {n}.\\nLine two of {n}."}}\n'
        for n in range(documents)
    )


def post(client, headers=None, **fields):
    data = {"segmentation": "line", "new_corpus_name": "Web", **fields}
    return client.post(reverse("corpus-import"), data, headers=headers or {})


# --- the stored upload ---------------------------------------------------------------


def test_an_upload_is_stored_in_chunks_and_read_back_whole(manager):
    data = bytes(range(256)) * (10 * 1024)  # 2.5 MB: Django spools it to disk
    spooled = TemporaryUploadedFile("big.csv", "text/csv", len(data), None)
    spooled.write(data)
    spooled.seek(0)
    job = Job.objects.create(kind=JobKind.CORPUS_IMPORT, requested_by=manager)
    stored = job_files.write_upload(job, spooled)
    chunks = JobChunk.objects.filter(file=stored).order_by("seq")
    sizes = [len(data) for data in chunks.values_list("data", flat=True)]
    assert stored.size == len(data) and len(sizes) == 3
    assert max(sizes) == job_files.CHUNK_BYTES
    with job_files.open_stream(stored) as stream:
        assert stream.read() == data
    job_files.delete_files(job)
    assert not JobFile.objects.exists() and not JobChunk.objects.exists()


@pytest.mark.postgres
def test_binary_chunks_store_what_the_portable_twin_stores(manager):
    """PostgreSQL: the upload's bytes sent unquoted (fast path) and through the
    ORM (its twin) are stored and read back the same."""
    data = bytes(range(256)) * 5000 + b"\x00\\'\n"  # quoting's hard cases
    read = []
    for twin in (nullcontext(), portable("job-chunks-binary")):
        job = Job.objects.create(kind=JobKind.CORPUS_IMPORT, requested_by=manager)
        with twin:
            stored = job_files.write_upload(job, SimpleUploadedFile("a.csv", data))
        chunks = JobChunk.objects.filter(file=stored).order_by("seq")
        with job_files.open_stream(stored) as stream:
            read.append((list(chunks.values_list("seq", flat=True)), stream.read()))
    assert read[0] == read[1] == ([0, 1], data)


# --- the form answers at once --------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_the_form_s_errors_come_inline_and_queue_nothing(manager_client, htmx):
    response = post(
        manager_client,
        headers={"HX-Request": "true"} if htmx else None,
        new_corpus_name="",
        exclude_patterns="(",
        files=[upload("notes.docx", "x")],
    )
    assert response.status_code == 200
    assert "Choose a corpus or name a new one." in response.text
    assert "notes.docx: unsupported file type" in response.text
    assert "Not a valid pattern" in response.text
    assert ("<html" in response.text) is not htmx
    assert not Job.objects.exists() and not JobFile.objects.exists()


def test_an_upload_over_the_limit_is_refused_before_it_is_stored(
    manager_client, settings
):
    settings.CORPUS_UPLOAD_MAX_BYTES = 100
    response = post(manager_client, files=[upload("big.csv", "text\n" + "x" * 200)])
    assert response.status_code == 200
    assert "big.csv: 205 bytes is over the 100-byte limit" in response.text
    assert not Job.objects.exists() and not JobChunk.objects.exists()


# --- the job and its page ------------------------------------------------------------


def test_an_import_reports_bytes_read_and_ends_with_its_totals(manager, queue_only):
    text = jsonl(30)
    job = request_corpus_import(
        uploads=[upload("a.jsonl", text), upload("b.txt", "Title\nBody")],
        options=OPTIONS,
        by=manager,
    )
    seen = []
    note = run_corpus_import(job, lambda *step: seen.append(step))
    total = len(text.encode()) + len(b"Title\nBody")
    assert seen[0] == (0, total, "reading the upload back from the database")
    done = [step[0] for step in seen]
    assert done == sorted(done) and seen[-1] == (total, total, "31 documents read")
    assert all(step[1] == total for step in seen)
    assert note.startswith("Imported 31 document(s) with 62 span(s) into 'Queued'")
    assert job.result["documents"] == 31 and job.result["spans"] == 62


def test_the_job_page_full_and_partial_shows_the_imported_corpus(manager_client):
    response = post(manager_client, files=[upload("docs.jsonl", jsonl(3))])
    job = Job.objects.get()
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    size = len(jsonl(3).encode())
    assert job.state == JobState.DONE and job.done_units == job.total_units == size
    corpus = Corpus.objects.get(name="Web")
    full = manager_client.get(response["Location"])
    part = manager_client.get(response["Location"], **HTMX)
    for page in (full.text, part.text):
        assert (
            f'Corpus <a href="{corpus.get_absolute_url()}">Web</a> imported: '
            "3 documents, 6 spans."
        ) in page
        assert f"100 % ({size}\xa0bytes of {size}\xa0bytes)" in page
        assert POLLING not in page  # finished: the card stops polling
    assert "<html" in full.text and "<html" not in part.text
    assert reverse("corpus-list") in full.text
    assert not JobFile.objects.exists()  # the stored upload is gone with the job


def test_a_failed_import_stores_nothing_and_says_where(manager_client):
    CorpusFactory(name="Kept", created_by=UserFactory(username="x"))
    before = (Corpus.objects.count(), Document.objects.count(), Span.objects.count())
    good = jsonl(1500)  # past the first batch of 1,000: written, then rolled back
    post(
        manager_client,
        files=[upload("good.jsonl", good), upload("bad.jsonl", '{"title": "T"}\n')],
    )
    job = Job.objects.get()
    assert job.state == JobState.FAILED and job.result == {}
    assert job.error == (
        "bad.jsonl, line 1, field 'text': missing or empty; every document needs "
        "its text. Nothing was imported."
    )
    after = (Corpus.objects.count(), Document.objects.count(), Span.objects.count())
    assert after == before and not JobFile.objects.exists()
    page = manager_client.get(reverse("job-detail", args=[job.pk])).text
    assert "bad.jsonl, line 1, field &#x27;text&#x27;" in page


def test_a_corpus_named_while_the_import_waited_fails_it_in_words(manager, queue_only):
    job = request_corpus_import(
        uploads=[upload("a.txt", "Title\nBody")], options=OPTIONS, by=manager
    )
    CorpusFactory(name="queued")  # another import got there first
    with pytest.raises(ImportFailed):  # the worker's own record keeps it too
        run_job.call(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == (
        "The new corpus 'Queued': a corpus of that name was made while this import "
        "waited; import into it or under another name. Nothing was imported."
    )
    assert Corpus.objects.count() == 1 and not Document.objects.exists()


def test_an_import_into_an_existing_corpus_adds_and_skips_duplicates(
    manager_client, manager
):
    corpus = CorpusFactory(name="Mine", created_by=manager)
    post(manager_client, corpus=corpus.pk, files=[upload("a.txt", "Title\nBody")])
    post(manager_client, corpus=corpus.pk, files=[upload("b.txt", "Title\nBody")])
    second = Job.objects.order_by("pk").last()
    assert second.result["documents"] == 0 and second.result["duplicates"] == 1
    page = manager_client.get(reverse("job-detail", args=[second.pk])).text
    assert "0 documents, 0 spans; 1 duplicate skipped." in page
    assert "Duplicate skipped: b.txt, line 1: Title" in page
    assert corpus.documents.count() == 1


def test_another_user_cannot_see_the_import_but_staff_can(
    client, manager_client, manager
):
    post(manager_client, files=[upload("a.txt", "Title\nBody")])
    url = reverse("job-detail", args=[Job.objects.get().pk])
    other = UserFactory(username="other-manager")
    other.groups.add(*manager.groups.all())
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert "Import " not in client.get(reverse("corpus-list")).text
    client.force_login(UserFactory(username="ops", is_staff=True))
    assert client.get(url).status_code == 200


# --- the corpora list's panel ------------------------------------------------------


def test_the_corpora_list_shows_the_user_s_imports_and_polls_while_one_runs(
    manager_client, manager, queue_only
):
    job = request_corpus_import(
        uploads=[upload("a.txt", "Title\nBody")], options=OPTIONS, by=manager
    )
    panel = reverse("corpus-import-panel")
    full = manager_client.get(reverse("corpus-list")).text
    part = manager_client.get(panel, **HTMX).text
    for page in (full, part):
        assert f'href="{reverse("job-detail", args=[job.pk])}">Import {job.pk}' in page
        assert "waiting for a worker" in page and POLLING in page
    assert "<html" not in part and part.lstrip().startswith('<section id="import-jobs"')
    assert "<html" in manager_client.get(panel).text
    run_job.call(job.pk)
    done = manager_client.get(panel, **HTMX).text
    corpus = Corpus.objects.get(name="Queued")
    assert f'<a href="{corpus.get_absolute_url()}">Queued</a>: 1 document' in done
    assert POLLING not in done


# --- a dead worker --------------------------------------------------------------------


def test_a_dead_worker_s_import_is_retried_from_the_stored_upload(manager, queue_only):
    job = request_corpus_import(
        uploads=[upload("a.jsonl", jsonl(2))], options=OPTIONS, by=manager
    )
    gone = f"{socket.gethostname()}:{dead_pid()}"
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker=gone)
    (line,) = sweep_orphaned_jobs()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error.endswith(
        "Nothing it computed was kept: no document of the upload was imported."
    )
    retry = Job.objects.get(retry_of=job)
    assert line.endswith(f"retried as job {retry.pk}")
    assert list(JobFile.objects.values_list("job", flat=True)) == [retry.pk]
    run_job.call(retry.pk)
    retry.refresh_from_db()
    assert retry.state == JobState.DONE, retry.error
    assert Corpus.objects.get(name="Queued").documents.count() == 2
    assert not JobFile.objects.exists()


def test_a_dead_worker_s_last_attempt_leaves_no_upload_behind(manager, queue_only):
    """A dead worker's second attempt is not retried: its upload is deleted."""
    job = request_corpus_import(
        uploads=[upload("a.txt", "T\nB")], options=OPTIONS, by=manager
    )
    gone = f"{socket.gethostname()}:{dead_pid()}"
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, worker=gone, attempt=2)
    sweep_orphaned_jobs()
    assert not Job.objects.filter(state=JobState.QUEUED).exists()
    assert not JobFile.objects.exists() and not JobChunk.objects.exists()
