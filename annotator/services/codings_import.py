"""Bring existing codings into a project: all or nothing, idempotent, as a job.

The file is read and checked by services.codings_reading; then, in one
transaction, each coding becomes what a submit makes: a completed assignment
(the span's place taken, as a claim and submit take it), an annotation marked
``source = imported`` with its labels, all under one new change number of the
project (services.submits.next_change), so gold and agreement see them as any
other codes.

- A coding already stored with the same codes is left alone: importing the same
  file again changes nothing.
- A coding stored with other codes is a conflict: the import is refused, naming
  the line, and nothing is written (revise it on the coding screen, or leave it
  out of the file).
- A span whose coder holds a live claim on it is refused likewise; a claim that
  lapsed or was skipped is completed by the import.
- A span may get more coders from a file than its design planned: its target
  grows to what it has (never a check-constraint failure) and it joins the
  reliability sample when it has two or more, as gold reads the sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.models import (
    Annotation,
    Assignment,
    Job,
    JobKind,
    Label,
    Project,
    WorkItem,
)
from annotator.models.annotations import keys_by_dimension
from annotator.services import job_files
from annotator.services.codings_reading import (
    Coding,
    CodingsImportFailed,
    Problems,
    read_codings,
)
from annotator.services.jobs import JobProgress, request_job
from annotator.services.submits import next_change

BATCH = 2000
Status = Assignment.Status


@dataclass
class ImportReport:
    imported: int = 0
    unchanged: int = 0
    labels: int = 0

    def summary(self) -> str:
        return (
            f"{self.imported:,} codings imported ({self.labels:,} codes); "
            f"{self.unchanged:,} already there, unchanged."
        )


def _existing(project: Project, codings: list[Coding]) -> dict[tuple, tuple]:
    """{(span, coder): (assignment id, status, annotation id or None)}."""
    found = {}
    spans = sorted({c.span_id for c in codings})
    for at in range(0, len(spans), BATCH):
        for row in Assignment.objects.filter(
            project=project, span_id__in=spans[at : at + BATCH]
        ).values_list("span_id", "coder_id", "id", "status", "annotation__id"):
            found[row[:2]] = row[2:]
    return found


def _stored_labels(annotation_ids: list[int]) -> dict[int, dict]:
    stored: dict[int, list] = {pk: [] for pk in annotation_ids}
    for at in range(0, len(annotation_ids), BATCH):
        for pk, dimension, category in Label.objects.filter(
            annotation_id__in=annotation_ids[at : at + BATCH]
        ).values_list("annotation_id", "dimension__key", "category__key"):
            stored[pk].append((dimension, category))
    return {pk: keys_by_dimension(pairs) for pk, pairs in stored.items()}


def _to_write(project: Project, codings: list[Coding], name: str, report):
    """The codings to store, with the assignment each reuses (or None); refuses
    conflicts and live claims, naming the line."""
    problems = Problems(name)
    existing = _existing(project, codings)
    stored = _stored_labels([e[2] for e in existing.values() if e[2] is not None])
    writes = []
    for coding in codings:
        old = existing.get((coding.span_id, coding.coder_id))
        if old is None:
            writes.append((coding, None))
            continue
        assignment_id, status, annotation_id = old
        new = keys_by_dimension((c.dimension.key, c.key) for _, c in coding.resolved)
        if annotation_id is not None:
            if stored[annotation_id] == new:
                report.unchanged += 1
                continue
            problems.add(
                coding.line,
                "category",
                f"span {coding.span_id} is already "
                f"coded by this coder as {stored[annotation_id]}, not {new}; "
                "a re-import never overwrites a code.",
            )
        elif status == Status.CLAIMED:
            problems.add(
                coding.line,
                "coder",
                f"this coder holds an open claim on "
                f"span {coding.span_id}; import once it is submitted or has "
                "lapsed.",
            )
        else:
            writes.append((coding, assignment_id))
    problems.stop()
    return writes


def _take_places(project: Project, writes: list) -> int:
    """Count each coding in its work item's `taken`, raising a target the file
    goes beyond; returns the codings added to the project's total."""
    per_item = Counter(coding.item_id for coding, _ in writes)
    items = (
        WorkItem.objects.filter(id__in=list(per_item))
        .order_by("id")
        .select_for_update()
        .values_list("id", "target", "taken")
    )
    grown = 0
    for item_id, target, taken in list(items):
        taken += per_item[item_id]
        new_target = max(target, taken)
        grown += new_target - target
        sampled = {"in_sample": True} if new_target > 1 else {}
        WorkItem.objects.filter(pk=item_id).update(
            taken=taken, target=new_target, **sampled
        )
    return grown


@transaction.atomic
def import_codings(
    *,
    project: Project,
    stream: BinaryIO,
    name: str,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file of codings (see this module's docstring), all or nothing.

    The file is read as a stream (services.codings_reading); ``progress`` is told
    the rows read so far. The codings are written BATCH at a time, in this one
    transaction: a problem found anywhere leaves nothing behind.
    """
    codings = read_codings(project, stream, name, progress)
    report = ImportReport()
    # The coders' rows first, the lock every claim and submit takes first.
    list(project.memberships.order_by("pk").select_for_update().values_list("pk"))
    _refuse_if_moved(project, name)
    writes = _to_write(project, codings, name, report)
    del codings  # what is written is in `writes`
    if not writes:
        return report
    grown = _take_places(project, writes)
    Project.objects.filter(pk=project.pk).update(
        total_codings=F("total_codings") + grown
    )
    change = next_change(project.pk)
    now = timezone.now()
    for at in range(0, len(writes), BATCH):
        report.labels += _store(project, writes[at : at + BATCH], change, now)
    report.imported = len(writes)
    return report


def _refuse_if_moved(project: Project, name: str) -> None:
    """The file was checked against ``project.codebook_id``: a codebook move that
    committed while it was read (a move takes the same membership locks, now
    held) would leave these codings on a version the project has left."""
    now_on = Project.objects.filter(pk=project.pk).values_list(
        "codebook__version", "codebook_id"
    )[0]
    if now_on[1] != project.codebook_id:
        raise CodingsImportFailed(
            [
                f"{name}: the project moved to codebook version {now_on[0]} while "
                "this file was read; nothing was imported. Import it again: it "
                "will be checked against the new version."
            ]
        )


def _store(project: Project, writes: list, change: int, now) -> int:
    """Each coding's completed assignment, annotation and labels; returns how
    many labels."""
    fresh = [
        Assignment(
            project=project,
            work_item_id=c.item_id,
            span_id=c.span_id,
            coder_id=c.coder_id,
            status=Status.COMPLETED,
            claimed_at=now,
            expires_at=now,
            finished_at=now,
        )
        for c, assignment_id in writes
        if assignment_id is None
    ]
    Assignment.objects.bulk_create(fresh, batch_size=BATCH)
    fresh_ids = iter(a.pk for a in fresh)
    reused = [assignment_id for _, assignment_id in writes if assignment_id]
    Assignment.objects.filter(pk__in=reused).update(
        status=Status.COMPLETED, finished_at=now
    )
    annotations = [
        Annotation(
            assignment_id=assignment_id or next(fresh_ids),
            project=project,
            codebook_id=project.codebook_id,
            source=Annotation.Source.IMPORTED,
            change=change,
            seconds=None,
        )
        for _, assignment_id in writes
    ]
    Annotation.objects.bulk_create(annotations, batch_size=BATCH)
    labels = [
        Label(
            annotation_id=annotation.pk,
            project=project,
            span_id=coding.span_id,
            coder_id=coding.coder_id,
            dimension_id=dimension_id,
            category=category,
        )
        for annotation, (coding, _) in zip(annotations, writes, strict=True)
        for dimension_id, category in coding.resolved
    ]
    Label.objects.bulk_create(labels, batch_size=BATCH)
    return len(labels)


# --- from the web: stored, then imported by a worker ---------------------------------


def request_codings_import(*, project: Project, upload: UploadedFile, by) -> Job:
    """Store the upload and queue its import into the project; returns the job."""
    return request_job(
        JobKind.CODINGS_IMPORT,
        project=project,
        by=by,
        prepare=lambda job: job_files.write_upload(job, upload),
    )


def run_codings_import(job: Job, progress: JobProgress) -> str:
    """The job's work: the stored file into the project, in one transaction."""
    (stored,) = job_files.stored_files(job)
    progress(0, stored.size, "reading the upload back from the database")
    with job_files.open_stream(stored) as stream:

        def rows_read(rows: int) -> None:
            progress(stream.tell(), stored.size, f"{rows:,} rows read")

        report = import_codings(
            project=job.project, stream=stream, name=stored.name, progress=rows_read
        )
    progress(stored.size, stored.size, report.summary())
    job.result = {"imported": report.imported, "unchanged": report.unchanged}
    return report.summary()


__all__ = ["CodingsImportFailed", "ImportReport", "import_codings"]
