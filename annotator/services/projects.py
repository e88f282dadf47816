"""Project set-up and membership: a project with its sample and queue; members."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby, islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotator.models import Codebook, Membership, Project, WorkItem
from annotator.services.design import design_problem
from annotator.services.queue import lock_member, release_places_of
from annotator.services.queue_sql import DOCUMENT_SHIFT
from corpus.bulk import insert_rows
from corpus.db import fast_path
from corpus.models import Corpus, Span

WORK_ITEM_COLUMNS = (
    "project_id", "span_id", "document_id", "position", "target", "taken", "in_sample"
)  # fmt: skip
WORK_ITEM_BATCH = 50_000


def _sample_size(rng: random.Random, n_spans: int, share: float) -> int:
    """share × n, rounded up or down at random so the expected total is exact."""
    exact = n_spans * share
    whole = int(exact)
    return whole + (1 if rng.random() < exact - whole else 0)


def _work_item_rows(project: Project) -> Iterable[tuple]:
    """One row per codable span; the reliability sample is drawn per document.

    Stratifying by document keeps every outlet and period in the sample in proportion;
    one seeded generator, walked in document order, makes the draw reproducible.
    """
    rng = random.Random(project.seed)
    document_ids = list(
        project.corpus.documents.order_by("id").values_list("id", flat=True)
    )
    if project.order == Project.Order.RANDOM:
        random.Random(f"order-{project.seed}").shuffle(document_ids)
    rank = {document_id: r for r, document_id in enumerate(document_ids)}
    spans = (
        Span.objects.in_corpus(project.corpus)
        .codable()
        .order_by("document_id", "index")
        .values_list("id", "document_id", "index")
        .iterator(chunk_size=10_000)
    )
    k = project.coders_per_span
    for document_id, rows in groupby(spans, key=lambda row: row[1]):
        rows = list(rows)
        in_sample = set(
            rng.sample(
                range(len(rows)), _sample_size(rng, len(rows), project.sample_share)
            )
        )
        base = rank[document_id] << DOCUMENT_SHIFT
        for i, (span_id, _, index) in enumerate(rows):
            sampled = i in in_sample and k > 1
            yield (
                project.pk, span_id, document_id, base + index,
                k if sampled else 1, 0, sampled,
            )  # fmt: skip


@transaction.atomic
def create_project(
    *,
    name: str,
    corpus: Corpus,
    codebook: Codebook,
    created_by=None,
    coders_per_span: int = 2,
    sample_share: float = 1.0,
    order: str = Project.Order.DOCUMENT,
    seed: int = 1,
    lease_minutes: int = 30,
    members: Mapping = (),
    description: str = "",
    gold_methods: Sequence[str] = ("unanimous", "single"),
    gold_min_share: float = 0.5,
    gold_min_posterior: float = 0.9,
) -> Project:
    """Create a project, draw its reliability sample and build its queue."""
    if coders_per_span < 1:
        raise ValidationError({"coders_per_span": "At least one coder per span."})
    if not 0 <= sample_share <= 1:
        raise ValidationError({"sample_share": "The share must be between 0 and 1."})
    named = sum(1 for role in dict(members).values() if role == Membership.Role.CODER)
    # Coders may also be added after creation (the project page warns until they
    # are); a design that the coders named at creation cannot meet is refused.
    if named and (problem := design_problem(coders_per_span, named)):
        raise ValidationError({"coders_per_span": problem})
    project = Project.objects.create(
        name=name,
        description=description,
        corpus=corpus,
        codebook=codebook,
        created_by=created_by,
        coders_per_span=coders_per_span,
        sample_share=sample_share,
        order=order,
        seed=seed,
        lease_minutes=lease_minutes,
        gold_methods=list(gold_methods),
        gold_min_share=gold_min_share,
        gold_min_posterior=gold_min_posterior,
    )
    rows = _work_item_rows(project)
    # Batches, not one COPY over the generator: the generator reads spans on the same
    # connection, and PostgreSQL cannot run that query while a COPY is in progress
    # (the import hangs). Its server-side cursor stays open between the COPYs.
    while batch := list(islice(rows, WORK_ITEM_BATCH)):
        insert_rows(WorkItem, WORK_ITEM_COLUMNS, batch, batch_size=5000)
    if fast_path("analyze-new-queue"):
        # Fresh statistics for the queue's table, so the first claims plan with the
        # real row counts (a new million-row project otherwise looks empty to the
        # planner until autovacuum gets round to it). Inside the transaction ANALYZE
        # counts our own uncommitted rows as live.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {WorkItem._meta.db_table}")
    project.total_codings = sum(
        project.work_items.values_list("target", flat=True).iterator(chunk_size=50_000)
    )
    project.save(update_fields=["total_codings"])
    if created_by is not None:
        Membership.objects.create(
            project=project, user=created_by, role=Membership.Role.MANAGER
        )
    for user, role in dict(members).items():
        set_membership(project=project, user=user, role=role)
    return project


def _not_oneself(user, by) -> None:
    """Managers cannot lock themselves out of their own project."""
    if by is not None and by.pk == user.pk:
        raise ValidationError(
            "You cannot remove yourself or change your own role; ask another manager."
        )


@transaction.atomic
def set_membership(*, project: Project, user, role: str, by=None) -> Membership:
    """Add a member or change their role; `by` (the manager acting) may not
    change their own."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"'{role}' is not a role."})
    _not_oneself(user, by)
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def remove_member(*, project: Project, user, by=None) -> None:
    """Remove a member; their live claims and the spans waiting for them to code
    again go back to the pool, their codings stay. `by` (the manager acting) may
    not remove themselves.

    The membership row is locked first, as claims and submits do, so removing a
    coder in the middle of their submit waits for it instead of deadlocking.
    """
    _not_oneself(user, by)
    lock_member(Membership.objects.filter(project=project, user=user))
    release_places_of(project, user, timezone.now())
    Membership.objects.filter(project=project, user=user).delete()
