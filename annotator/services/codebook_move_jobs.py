"""A codebook move from the web: the request queues it, a worker moves the project.

The move page's POST calls ``request_codebook_move`` (refused, in words, if the
version is no move for the project or another move of it waits or runs); the
worker's ``run_codebook_move`` calls ``move_codebook`` in one transaction and
reports its steps through the job's progress. A move the project can no longer
make when its turn comes (it was moved past that version meanwhile), or a
version edited since the manager asked (it is still editable until a project
uses it), fails in words, and stores nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.codebooks import content_digest
from annotator.models import Codebook, Job, JobKind, Project
from annotator.services.codebook_move import move_codebook, move_problem
from annotator.services.jobs import JobProgress, request_job


class MoveFailed(Exception):
    """Why a queued move could not be made, in words (``tasks.in_words``)."""


def request_codebook_move(*, project: Project, new: Codebook, by) -> Job:
    """Queue the project's move to ``new``; returns the job. ValidationError if
    ``new`` is no move for the project or another move of it waits or runs."""
    problem = move_problem(project, new)
    if problem:
        raise ValidationError(problem)
    return request_job(
        JobKind.CODEBOOK_MOVE,
        project=project,
        by=by,
        options={
            "codebook": new.pk,
            "version": new.version,
            "content": content_digest(new),
        },
    )


def run_codebook_move(job: Job, progress: JobProgress) -> str:
    """The job's work: the move, all or nothing; sets ``job.result``."""
    version = job.options["version"]
    with transaction.atomic():
        # Held until the move commits: an edit of this version waits for it.
        new = Codebook.objects.select_for_update().filter(pk=job.options["codebook"])
        new = new.first()
        if new is None:
            raise MoveFailed(f"Version {version} of the codebook no longer exists.")
        now_says = content_digest(new)
        if job.options.get("content", now_says) != now_says:
            raise MoveFailed(
                f"Version {version} was edited after this move was asked for: "
                "look at what the move changes again and ask for it again."
            )
        try:
            record = move_codebook(
                project=job.project, new=new, by=job.requested_by, progress=progress
            )
        except ValidationError as error:
            raise MoveFailed(" ".join(error.messages)) from error
    job.result = {"version": new.version, "summary": record.summary}
    return f"moved to version {new.version}"
