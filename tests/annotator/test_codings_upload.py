"""Codings uploads at any size: the corpus upload's limit, streamed rows, a worker."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Annotation, Job, JobChunk, JobState, Label
from annotator.services import set_membership
from annotator.services.codings_reading import Problems, read_codings, read_rows
from corpus.models import Document
from tests.annotator.test_codings_import import codings_csv, csv_file
from tests.annotator.test_worker import wait_for, workers  # noqa: F401 - a fixture
from tests.factories import UserFactory, make_project

OLD_CAP = 10 * 1024 * 1024  # the request-body limit codings uploads were held to


@pytest.fixture
def project(manager):
    project = make_project(documents=2, spans_per_document=3, coders=["ann", "bob"])
    set_membership(project=project, user=manager, role="manager")
    return project


def page_url(project) -> str:
    return reverse("project-codings-import", args=[project.pk])


def upload_of(lines: list[str], name: str = "codings.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_file(lines).getvalue())


# --- the limit: the corpus upload's, one rule ----------------------------------------


@pytest.mark.django_db
def test_a_file_at_the_limit_is_taken_one_byte_over_is_refused_naming_it(
    client, manager, project, settings
):
    client.force_login(manager)
    size = len(csv_file(codings_csv(project)).getvalue())
    settings.CORPUS_UPLOAD_MAX_BYTES = size - 1
    refused = client.post(page_url(project), {"file": upload_of(codings_csv(project))})
    assert refused.status_code == 200
    assert (
        f"codings.csv: {size:,} bytes is over the {size - 1:,}-byte limit; "
        "import larger files with &#x27;manage.py import_codings&#x27;."
    ) in refused.text
    assert not Job.objects.exists() and not JobChunk.objects.exists()
    settings.CORPUS_UPLOAD_MAX_BYTES = size
    taken = client.post(page_url(project), {"file": upload_of(codings_csv(project))})
    assert taken.status_code == 303
    assert Job.objects.get().state == JobState.DONE
    assert Annotation.objects.filter(project=project, source="imported").count() == 3


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client, manager, project, settings
):
    """Past the 10 MB body limit only for the project's managers, up to the
    corpus upload's limit; past that, 413 naming it and the command."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.CORPUS_UPLOAD_MAX_BYTES = 1024 * 1024
    lines = codings_csv(project)
    padded = [*lines[:-1], lines[-1] + " " * 2000]  # an empty value, padded
    client.force_login(manager)
    response = client.post(page_url(project), {"file": upload_of(padded)})
    assert response.status_code == 303  # taken, stored and imported
    assert Job.objects.get().state == JobState.DONE
    ann = project.memberships.get(user__username="ann").user
    client.force_login(ann)  # not a manager: held to the body limit
    response = client.post(page_url(project), {"file": upload_of(padded)})
    assert response.status_code == 413
    assert "at most 1,000 bytes" in response.text
    settings.CORPUS_UPLOAD_MAX_BYTES = 100
    client.force_login(manager)
    big = upload_of(lines + ["x" * (1024 * 1024 + 500)])
    response = client.post(page_url(project), {"file": big})
    assert response.status_code == 413
    assert "at most 100 bytes" in response.text
    assert "manage.py import_codings" in response.text
    assert Job.objects.count() == 1


# --- streamed: never the whole file in memory ----------------------------------------


class NoWholeReads(io.BytesIO):
    """A file that refuses to be read whole, and records how far it was read."""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("read() without a size: the whole file at once")
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        raise AssertionError("readline(): no bound on a line's length")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["codings.csv", "codings.jsonl"])
def test_rows_are_read_as_they_come(project, name):
    first = codings_csv(project)[1].split(",")
    if name.endswith(".csv"):
        lines = ["span_id,coder,dimension,category", *[",".join(first[:4])] * 50_000]
    else:
        row = f'{{"span_id": {first[0]}, "coder": "ann", "dimension": "topic"}}'
        lines = [row] * 50_000
    stream = NoWholeReads(csv_file(lines).getvalue())
    rows = read_rows(stream, name, Problems(name))
    assert next(rows).fields["coder"] == "ann"
    assert stream.tell() < 64 * 1024 < len(stream.getvalue())  # not the whole file
    # The whole reader, through to its checks, takes the file a piece at a time.
    stream = NoWholeReads(csv_file(codings_csv(project)).getvalue())
    assert len(read_codings(project, stream, name="codings.csv")) == 3


# --- over the old cap, through a real worker -----------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_over_the_old_cap_imports_through_a_worker(client, workers):  # noqa: F811
    """~12 MB of codings (long document titles: 6,000 codings, 12,000 rows)."""
    project = make_project(documents=30, spans_per_document=100, coders=["ann", "bob"])
    manager = UserFactory(username="boss")
    set_membership(project=project, user=manager, role="manager")
    documents = Document.objects.filter(corpus=project.corpus).order_by("pk")
    titles = {}
    for n, document in enumerate(documents):
        titles[document.pk] = (f"{n:03} " + "a long title " * 76).strip()
        Document.objects.filter(pk=document.pk).update(title=titles[document.pk])
    lines = ["document_title,span_index,coder,dimension,category"]
    for title in titles.values():
        for index in range(100):
            for coder in ("ann", "bob"):
                lines.append(f"{title},{index},{coder},topic,arms")
                lines.append(f"{title},{index},{coder},stance,neutral")
    upload = upload_of(lines)
    assert upload.size > OLD_CAP + 1024 * 1024
    client.force_login(manager)
    workers.start()
    response = client.post(page_url(project), {"file": upload})
    assert response.status_code == 303, response.content[:500]
    job = Job.objects.get(project=project, kind="codings_import")
    wait_for(
        lambda: Job.objects.get(pk=job.pk).state in (JobState.DONE, JobState.FAILED),
        "the import",
        workers,
    )
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    assert "6,000 codings imported (12,000 codes)" in job.note
    assert Annotation.objects.filter(project=project, source="imported").count() == 6000
    assert Label.objects.filter(project=project).count() == 12_000
    assert not JobChunk.objects.filter(file__job=job).exists()  # the upload freed
