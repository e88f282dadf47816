"""Corpus imports from the web: the upload is stored and queued, a worker imports it.

The request stores the upload and queues a job; a worker streams the stored files
into the corpus, all or nothing. The page's form has checked what it can at once
(names, sizes, file types, patterns); the records themselves are checked by the
importer in the worker, whose error (file, line, field) the job page shows. The
corpus row, new or not, is written in the import's own transaction: a failed
import leaves no corpus behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from itertools import chain

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from annotator.models import Job, JobKind
from annotator.services import job_files
from annotator.services.jobs import JobProgress, request_job
from corpus.importing import ImportFailed, import_documents, read_upload
from corpus.models import Corpus
from corpus.progress import BytesRead

DUPLICATES_SHOWN = 10  # on the job page; the rest are counted


def request_corpus_import(
    *, uploads: Iterable[UploadedFile], options: dict, by
) -> Job:
    """Store the uploads and queue their import; returns the job.

    ``options``: ``corpus`` (an id) or ``new_corpus_name``, and ``segmentation``,
    ``exclude_patterns`` (a list), ``language`` as the import form cleans them.
    """
    return request_job(
        JobKind.CORPUS_IMPORT,
        by=by,
        options=options,
        prepare=lambda job: job_files.write_uploads(job, uploads),
    )


def _target_corpus(job: Job) -> Corpus:
    """The corpus chosen on the form, or a new one; either may have changed
    while the job waited, which is said in words."""
    options = job.options
    if options.get("corpus"):
        corpus = Corpus.objects.filter(pk=options["corpus"]).first()
        if corpus is None:
            raise ImportFailed(
                "The chosen corpus",
                None,
                None,
                "it was deleted while this import waited; import into another one.",
            )
        return corpus
    name = options["new_corpus_name"]
    if Corpus.objects.filter(name__iexact=name).exists():
        raise ImportFailed(
            f"The new corpus '{name}'",
            None,
            None,
            "a corpus of that name was made while this import waited; import "
            "into it or under another name.",
        )
    return Corpus.objects.create(name=name, created_by=job.requested_by)


def run_corpus_import(job: Job, progress: JobProgress) -> str:
    """The job's work: the stored files into the corpus, in one transaction;
    reports bytes read (and documents) as it goes and sets ``job.result``."""
    stored = job_files.stored_files(job)
    read = BytesRead({f.name: f.size for f in stored})
    progress(0, read.total, "reading the upload back from the database")
    with ExitStack() as streams:
        opened = [
            (streams.enter_context(job_files.open_stream(f)), f.name) for f in stored
        ]

        def report_progress(record) -> None:
            done = read(record)
            progress(done, read.total, f"{read.records:,} documents read")

        with transaction.atomic():
            corpus = _target_corpus(job)
            report = import_documents(
                corpus=corpus,
                records=chain.from_iterable(
                    read_upload(stream, name) for stream, name in opened
                ),
                segmentation=job.options["segmentation"],
                exclude_patterns=job.options.get("exclude_patterns", []),
                default_language=job.options.get("language", ""),
                progress=report_progress,
            )
    progress(read.total, read.total, f"{read.records:,} documents read")
    job.result = {
        "corpus": corpus.pk,
        "corpus_name": corpus.name,
        "documents": report.documents,
        "spans": report.spans,
        "excluded_spans": report.excluded_spans,
        "duplicates": len(report.duplicates),
        "duplicates_shown": report.duplicates[:DUPLICATES_SHOWN],
    }
    return report.summary()
