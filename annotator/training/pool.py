"""The reference pool: a study's hidden checks live in a project of their own.

A check is served and written exactly as real work (an Assignment, an Annotation,
Labels), but in the pool project, so every reader of the study's data (ratings,
agreement, gold, exports, the archive), which all filter by project, never sees
it. The pool is hidden from ``Project.objects`` (models.projects.ProjectManager):
this is the one module that may reach it through ``Project.all_objects``.
"""

from __future__ import annotations

import secrets

from django.db import models, transaction

from annotator.models import Project, ReferenceItem, WorkItem

# A pool work item is never full: every coder may be served each check once, and
# release_claims can still count a place given back.
POOL_TARGET = 32767
# Random 62-bit positions: the pool is served in random order (queue checks pick
# the first item at or after a random position).
POSITION_BITS = 62
SHARED_FIELDS = ("corpus_id", "codebook_id", "lease_minutes", "closed_at")


def pool_id(project: Project) -> int | None:
    """The study's pool id, if it has one (one indexed read)."""
    return (
        Project.all_objects.filter(pool_of_id=project.pk)
        .values_list("pk", flat=True)
        .first()
    )


def own_ids(project: Project) -> tuple[int, int]:
    """(study id, pool id): the projects a coder's own work lives in. Without a
    pool, the study twice, so ``project_id IN (%s, %s)`` still reads right."""
    return project.pk, pool_id(project) or project.pk


def own_projects(project: Project | int):
    """The study and its pool as a subquery of ids (no round trip of its own):
    the ORM's ``project_id__in`` for a coder's own work (a check is theirs too)."""
    pk = getattr(project, "pk", project)
    return Project.all_objects.filter(
        models.Q(pk=pk) | models.Q(pool_of_id=pk)
    ).values("pk")


def study_of(project: Project) -> Project:
    """The study a project belongs to: itself, or the study of a pool."""
    if project.pool_of_id is None:
        return project
    return Project.all_objects.get(pk=project.pool_of_id)


@transaction.atomic
def ensure_pool(project: Project) -> Project:
    """The study's pool, made on first use with the study's corpus, codebook,
    lease and state. No members: access is always through the study."""
    assert project.pool_of_id is None, "a pool has no pool"
    existing = (
        Project.all_objects.select_for_update().filter(pool_of_id=project.pk).first()
    )
    if existing is not None:
        return existing
    return Project.all_objects.create(
        pool_of=project,
        name=f"{project.name} · reference pool",
        corpus_id=project.corpus_id,
        codebook_id=project.codebook_id,
        lease_minutes=project.lease_minutes,
        closed_at=project.closed_at,
        coders_per_span=1,
        sample_share=0.0,
        created_by_id=project.created_by_id,
    )


def sync_pool(project: Project) -> None:
    """Copy the study's corpus, codebook, lease and closed state to its pool:
    called after each change of them (lifecycle, codebook moves, design)."""
    Project.all_objects.filter(pool_of_id=project.pk).update(
        **{field: getattr(project, field) for field in SHARED_FIELDS}
    )


def _free_position(pool: Project) -> int:
    while True:
        position = secrets.randbits(POSITION_BITS)
        if not WorkItem.objects.filter(project=pool, position=position).exists():
            return position


@transaction.atomic
def place_check(item: ReferenceItem) -> WorkItem:
    """The pool's work item for a check item (made once; kept when the item is
    retired or changes use: the queue's pick reads the item's use and state)."""
    pool = ensure_pool(item.project)
    span = item.span
    existing = WorkItem.objects.filter(project=pool, span_id=span.pk).first()
    if existing is not None:
        return existing
    return WorkItem.objects.create(
        project=pool,
        span_id=span.pk,
        document_id=span.document_id,
        position=_free_position(pool),
        target=POOL_TARGET,
        in_sample=False,
    )


def rebuild_pool(project: Project) -> None:
    """After a restore: a new pool with a work item per check item (the pool's
    claims are not archived; the scored CheckAnswer rows are)."""
    for item in ReferenceItem.objects.filter(
        project=project, use=ReferenceItem.Use.CHECK
    ).select_related("span"):
        place_check(item)
