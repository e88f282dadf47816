"""Multi-model writes: project set-up, the claim queue, submits, skips.

Called alike from pages, the API, commands and tests. Keyword-only arguments; bad
input raises django.core.exceptions.ValidationError and writes nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import groupby, islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from annotator.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    Category,
    Codebook,
    Dimension,
    Label,
    Membership,
    Project,
    WorkItem,
)
from corpus.bulk import insert_rows
from corpus.models import Corpus, Span

Status = Assignment.Status
# Positions are (document rank << 32) + span index: ordered without sorting a million
# rows in memory, and unique as long as a document has fewer than 4 billion spans.
DOCUMENT_SHIFT = 32
WORK_ITEM_COLUMNS = (
    "project_id", "span_id", "document_id", "position", "target", "taken", "in_sample"
)  # fmt: skip
WORK_ITEM_BATCH = 50_000


# --- projects ------------------------------------------------------------------------


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
) -> Project:
    """Create a project, draw its reliability sample and build its queue."""
    if coders_per_span < 1:
        raise ValidationError({"coders_per_span": "At least one coder per span."})
    if not 0 <= sample_share <= 1:
        raise ValidationError({"sample_share": "The share must be between 0 and 1."})
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
    )
    rows = _work_item_rows(project)
    # Batches, not one COPY over the generator: the generator reads spans on the same
    # connection, and PostgreSQL cannot run that query while a COPY is in progress
    # (the import hangs). Its server-side cursor stays open between the COPYs.
    while batch := list(islice(rows, WORK_ITEM_BATCH)):
        insert_rows(WorkItem, WORK_ITEM_COLUMNS, batch, batch_size=5000)
    if connection.vendor == "postgresql":
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


@transaction.atomic
def set_membership(*, project: Project, user, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"'{role}' is not a role."})
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


@transaction.atomic
def remove_member(*, project: Project, user) -> None:
    """Remove a member; their live claims go back to the pool, their codings stay.

    The membership row is locked first, as claims and submits do, so removing a
    coder in the middle of their submit waits for it instead of deadlocking.
    """
    _lock_member(Membership.objects.filter(project=project, user=user))
    live = list(
        Assignment.objects.live()
        .filter(project=project, coder=user)
        .select_for_update()
        .values_list("id", "work_item_id")
    )
    _release(live, Status.EXPIRED, timezone.now())
    Membership.objects.filter(project=project, user=user).delete()


# --- the queue -----------------------------------------------------------------------


def _release(claims: Sequence[tuple[int, int]], status: str, now: datetime) -> None:
    """Close claims and give their places back to the work items."""
    if not claims:
        return
    Assignment.objects.filter(id__in=[claim_id for claim_id, _ in claims]).update(
        status=status, finished_at=now
    )
    per_item = Counter(item_id for _, item_id in claims)
    # Lock the rows in one order (by id) before the updates below, which each lock
    # their share in whatever order they scan: two releases overlapping on the same
    # work items would otherwise deadlock.
    list(
        WorkItem.objects.filter(id__in=list(per_item))
        .order_by("id")
        .select_for_update()
        .values_list("id", flat=True)
    )
    for times in set(per_item.values()):
        WorkItem.objects.filter(
            id__in=[item for item, count in per_item.items() if count == times]
        ).update(taken=F("taken") - times)


def release_expired_claims(*, project: Project, now: datetime | None = None) -> int:
    """Expire claims whose lease ran out, so their spans return to the pool."""
    now = now or timezone.now()
    lapsed = Assignment.objects.filter(
        project=project, status=Status.CLAIMED, expires_at__lte=now
    )
    # Almost always there is nothing to release: one indexed probe, without the
    # transaction (two more round trips) that the locking read below needs.
    if not lapsed.exists():
        return 0
    with transaction.atomic():
        stale = list(
            Assignment.objects.filter(
                project=project, status=Status.CLAIMED, expires_at__lte=now
            )
            .select_for_update(skip_locked=True)
            .values_list("id", "work_item_id")
        )
        _release(stale, Status.EXPIRED, now)
    return len(stale)


def _lock_member(memberships, *extra: str) -> tuple | None:
    """Lock a membership row: every write of a coder's queue state takes it first.

    One lock order for claims, submits and removals (membership, then work items and
    assignments) is what keeps them free of deadlocks: without it, a coder submitting
    a lapsed claim while re-claiming that same span held the assignment and waited
    for the work item that the claim held while it waited for the assignment.
    """
    return memberships.select_for_update().values_list("pk", *extra).first()


def _lock_coder(project: Project, coder, *, lease_only: bool = False) -> None:
    """Serialise one coder's own requests (a double click must not claim twice)."""
    memberships = Membership.objects.filter(
        project=project, user=coder, role=Membership.Role.CODER
    )
    extra = ()
    if lease_only and connection.vendor == "postgresql":
        # A claim is a lease, not data: committing it without waiting for the WAL
        # flush saves a disk sync (~4 ms here) on every "next". A crash can lose
        # only the last fraction of a second of claims; their coders claim again.
        # Submits, which carry the codings, keep synchronous commits. set_config
        # (= SET LOCAL) rides on the lock's round trip instead of one of its own.
        memberships = memberships.annotate(
            asynchronous=RawSQL("set_config('synchronous_commit', 'off', true)", ())
        )
        extra = ("asynchronous",)
    if _lock_member(memberships, *extra) is None:
        raise ValidationError("You are not a coder in this project.")


def claim_next_span(
    *, project: Project, coder, now: datetime | None = None, shown: bool = False
) -> Assignment | None:
    """The coder's next span, claimed under a lease; None when nothing is left.

    shown=True: the span is being served to the coder now, so its clock starts now
    (what mark_shown does), written with the claim itself instead of in a second
    transaction and commit.

    Order of preference: the coder's live claim; a span another coder has started
    (so agreement data appears early), next in the coder's current document first;
    then an untouched span, again continuing the coder's document. Candidate rows are
    locked with SKIP LOCKED, so concurrent coders and app processes never take the
    same place twice; on SQLite the IMMEDIATE transaction serialises claims instead.
    Every query walks an index in position order, so its cost does not grow with
    the project. Lapsed claims are released first, in their own transaction, so the
    claim itself holds no locks but the coder's and the one span's.
    """
    now = now or timezone.now()
    # Only a transaction of our own may skip waiting for the disk (see _claim); a
    # caller's transaction may hold writes that must be durable.
    own_transaction = not transaction.get_connection().in_atomic_block
    release_expired_claims(project=project, now=now)
    return _claim(project, coder, now, lease_only=own_transaction, shown=shown)


_CLAIM_FIELDS = ("id", "span_id")
STARTED_WINDOW = 100


@transaction.atomic
def _claim(
    project: Project, coder, now: datetime, *, lease_only: bool, shown: bool
) -> Assignment | None:
    _lock_coder(project, coder, lease_only=lease_only)
    # After the lock (so a concurrent request of this coder is seen), one round trip
    # for the coder's state: their live claim, and their place, i.e. their latest
    # submit, found through the (project, coder, status, finished_at) index in one
    # step however many spans they have coded.
    mine = Assignment.objects.filter(project=project, coder=coder)
    latest = mine.filter(status=Status.COMPLETED).order_by("-finished_at")
    live_id, document_id, position = (
        Project.objects.filter(pk=project.pk)
        .order_by()
        .values_list(
            # No expiry condition here: with one, the planner walks the live-claim
            # index by expiry across every project's claims, not this coder's.
            Subquery(mine.live().order_by("claimed_at").values("pk")[:1]),
            Subquery(latest.values("work_item__document_id")[:1]),
            Subquery(latest.values("work_item__position")[:1]),
        )
        .get()
    )
    live = Assignment.objects.get(pk=live_id) if live_id is not None else None
    if live is not None and live.expires_at > now:
        if shown and live.shown_at is None:
            live.shown_at = now
            Assignment.objects.filter(pk=live.pk).update(shown_at=now)
        return live

    mine = Assignment.objects.filter(
        project=project, coder=coder, span_id=OuterRef("span_id")
    ).exclude(status=Status.EXPIRED)
    available = WorkItem.objects.filter(project=project).exclude(Exists(mine))
    open_started = WorkItem.objects.filter(
        project=project, taken__gt=0, taken__lt=F("target")
    )
    # Only the first STARTED_WINDOW started spans are looked at: a coder who worked
    # alone leaves thousands started by themself, and walking past all of them on
    # every claim would grow with their work. Beyond the window they get fresh spans;
    # the window moves on as others finish the started ones.
    started_anywhere = available.filter(taken__gt=0, taken__lt=F("target"))
    started = started_anywhere.filter(
        id__in=open_started.order_by("position").values("id")[:STARTED_WINDOW]
    )
    fresh = available.filter(taken=0)
    candidates = [started, fresh]
    if document_id is not None:
        # The rest of that document, as a range of positions too (a position is the
        # document's rank << DOCUMENT_SHIFT, plus the span's index): then whichever
        # index the planner picks reads only this document's remaining spans, even
        # with statistics that predate the project (a million-row scan otherwise).
        end_of_document = ((position >> DOCUMENT_SHIFT) + 1) << DOCUMENT_SHIFT

        def here(queryset):
            return queryset.filter(
                document_id=document_id,
                position__gt=position,
                position__lt=end_of_document,
            )

        # A document's range is bounded already: no window needed there.
        candidates = [here(started_anywhere), started, here(fresh), fresh]
    item = None
    for queryset in candidates:
        item = (
            queryset.order_by("position")
            .select_for_update(skip_locked=True)
            .values_list(*_CLAIM_FIELDS)
            .first()
        )
        if item:
            break
    if item is None and connection.features.has_select_for_update_skip_locked:
        # SKIP LOCKED also passes over spans that other coders are claiming at this
        # instant and that may still have room for this coder: "nothing left" must
        # not depend on that timing (a coder told so stops, and near the end spans
        # would stay under-coded). So wait for those rows in turn: such claims commit
        # within milliseconds, and a row they filled no longer matches once the lock
        # is granted (PostgreSQL re-checks it), so the scan moves on to the next.
        for queryset in (started, fresh):
            item = (
                queryset.order_by("position")
                .select_for_update()
                .values_list(*_CLAIM_FIELDS)
                .first()
            )
            if item:
                break
    if item is None:
        return None
    item_id, span_id = item
    WorkItem.objects.filter(pk=item_id).update(taken=F("taken") + 1)
    assignment = Assignment(
        project=project,
        work_item_id=item_id,
        span_id=span_id,
        coder=coder,
        status=Status.CLAIMED,
        claimed_at=now,
        shown_at=now if shown else None,
        expires_at=now + timedelta(minutes=project.lease_minutes),
        finished_at=None,
    )
    # A span whose claim lapsed can come back to the same coder: the row exists then.
    # INSERT … ON CONFLICT DO UPDATE covers both cases in one statement (the claim's
    # hot path; update_or_create took six, with two savepoints).
    Assignment.objects.bulk_create(
        [assignment],
        update_conflicts=True,
        unique_fields=["project", "span", "coder"],
        update_fields=[
            "work_item", "status", "claimed_at", "shown_at", "expires_at",
            "finished_at",
        ],
    )  # fmt: skip
    return assignment


def mark_shown(*, assignment: Assignment, now: datetime | None = None) -> None:
    """Start the span's clock the first time the coder sees it."""
    if assignment.shown_at is None:
        assignment.shown_at = now or timezone.now()
        Assignment.objects.filter(pk=assignment.pk, shown_at__isnull=True).update(
            shown_at=assignment.shown_at
        )


def _lock_assignment(assignment: Assignment | int, coder, *related: str) -> Assignment:
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("project", *related)
        .filter(pk=pk)
        .first()
    )
    if locked is None or locked.coder_id != coder.pk:
        raise ValidationError("This span is not assigned to you.")
    return locked


def _renew_lapsed_claim(assignment: Assignment, now: datetime) -> None:
    """Accept work on a lapsed claim while the span still has room for this coder."""
    if assignment.status == Status.CLAIMED and assignment.expires_at > now:
        return
    if assignment.status == Status.CLAIMED:
        # Lapsed but not yet released by anyone: the place is still ours.
        return
    item = WorkItem.objects.select_for_update().get(pk=assignment.work_item_id)
    if item.taken >= item.target:
        raise ValidationError(
            "Your claim on this span lapsed after "
            f"{assignment.project.lease_minutes} minutes without a submit, and other "
            "coders have since taken it; nothing was saved. Go on to the next span."
        )
    WorkItem.objects.filter(pk=item.pk).update(taken=F("taken") + 1)


def resolve_labels(
    codebook: Codebook, labels: Mapping[str, str | Sequence[str]]
) -> list[tuple[int, Category]]:
    """Check {dimension key: category key(s)} against the codebook.

    Raises ValidationError keyed by dimension, so a form can show each error beside
    its group of buttons. Each returned Category has its dimension loaded.
    """
    dimensions = _dimensions(codebook.pk)
    errors: dict[str, str] = {}
    resolved: list[tuple[int, Category]] = []
    for key in labels:
        if key not in dimensions:
            errors[key] = f"'{key}' is not a dimension of this codebook."
    for key, dimension in dimensions.items():
        chosen = labels.get(key) or []
        if isinstance(chosen, str):
            chosen = [chosen]
        chosen = [value for value in dict.fromkeys(chosen) if value]
        categories = dimension.category_map
        unknown = [value for value in chosen if value not in categories]
        if unknown:
            errors[key] = (
                f"{dimension.label}: '{unknown[0]}' is not a category of this "
                "dimension."
            )
        elif not chosen and dimension.required:
            errors[key] = f"{dimension.label}: choose a category (required)."
        elif len(chosen) > 1 and not dimension.multiple:
            errors[key] = f"{dimension.label}: choose one category, not {len(chosen)}."
        else:
            resolved.extend((dimension.pk, categories[value]) for value in chosen)
    if errors:
        raise ValidationError(errors)
    return resolved


def _dimensions(codebook_id: int) -> dict[str, Dimension]:
    """{key: dimension} of a codebook, in order, each with `category_map`.

    One query (dimensions outer-joined to their categories, so a dimension without
    any still comes), where prefetching took two; full instances, no deferred fields.
    """
    dimension_fields = [field.attname for field in Dimension._meta.concrete_fields]
    category_fields = [field.attname for field in Category._meta.concrete_fields]
    rows = (
        Dimension.objects.filter(codebook_id=codebook_id)
        .order_by("position", "pk", "categories__position", "categories__pk")
        .values_list(
            *dimension_fields, *(f"categories__{name}" for name in category_fields)
        )
    )
    n = len(dimension_fields)
    dimensions: dict[str, Dimension] = {}
    for row in rows:
        dimension = Dimension(**dict(zip(dimension_fields, row[:n], strict=True)))
        dimension = dimensions.setdefault(dimension.key, dimension)
        if not hasattr(dimension, "category_map"):
            dimension.category_map = {}
        if row[n] is not None:
            category = Category(**dict(zip(category_fields, row[n:], strict=True)))
            category.dimension = dimension
            dimension.category_map[category.key] = category
    return dimensions


def _state(annotation: Annotation) -> dict:
    return {
        "labels": annotation.label_keys(),
        "uncertain": annotation.uncertain,
        "comment": annotation.comment,
    }


LABELS_LOADED = Prefetch(
    "labels", queryset=Label.objects.select_related("dimension", "category")
)


def _new_labels(annotation: Annotation, resolved: list[tuple[int, Category]]) -> None:
    """Insert the resolved labels and keep them on the instance (no re-read)."""
    assignment = annotation.assignment
    labels = [
        Label(
            annotation=annotation,
            project_id=assignment.project_id,
            span_id=assignment.span_id,
            coder_id=assignment.coder_id,
            dimension=category.dimension,
            category=category,
        )
        for _, category in resolved
    ]
    Label.objects.bulk_create(labels)
    annotation._prefetched_objects_cache = {"labels": labels}


@transaction.atomic
def submit_annotation(
    *,
    coder,
    assignment: Assignment | int,
    labels: Mapping[str, str | Sequence[str]],
    uncertain: bool = False,
    comment: str = "",
    token: str = "",
    now: datetime | None = None,
) -> Annotation:
    """Save (or revise) the coder's annotation of an assigned span, all or nothing.

    Idempotent: a resent submit with the same token, or with unchanged content,
    returns the stored annotation and writes nothing. A changed submit of a finished
    assignment is a revision, recorded with who, when, old and new.

    The returned annotation has `created` (True when this call stored it, False for
    a replay or a revision), its labels loaded, and its assignment with the span and
    project: callers can answer without reading it back.
    """
    now = now or timezone.now()
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    # The coder's membership first, the lock claims take first too (see _lock_member).
    # A removed member holds no lock to take: they can no longer claim either.
    _lock_member(
        Membership.objects.filter(
            user=coder,
            project_id=Subquery(
                Assignment.objects.filter(pk=pk).values("project_id")[:1]
            ),
        )
    )
    assignment = _lock_assignment(
        pk, coder, "project__codebook", "span", "annotation__codebook"
    )
    try:
        existing = assignment.annotation
    except Annotation.DoesNotExist:
        existing = None
    if existing and token and existing.submission_token == token:
        prefetch_related_objects([existing], LABELS_LOADED)
        existing.created = False
        return existing
    if assignment.status == Status.SKIPPED:
        raise ValidationError("You skipped this span; it is no longer yours to code.")
    codebook = existing.codebook if existing else assignment.project.codebook
    resolved = resolve_labels(codebook, labels)
    comment = comment.strip()
    if existing:
        prefetch_related_objects([existing], LABELS_LOADED)
        old = _state(existing)
        existing.uncertain, existing.comment = uncertain, comment
        Label.objects.filter(annotation=existing).delete()
        _new_labels(existing, resolved)
        new = _state(existing)
        if new != old:
            existing.submission_token = token
            existing.save()
            AnnotationRevision.objects.create(
                annotation=existing, changed_by=coder, old=old, new=new
            )
        existing.created = False
        return existing

    _renew_lapsed_claim(assignment, now)
    started = assignment.shown_at or assignment.claimed_at
    annotation = Annotation.objects.create(
        assignment=assignment,
        project_id=assignment.project_id,
        codebook=codebook,
        uncertain=uncertain,
        comment=comment,
        seconds=max((now - started).total_seconds(), 0.0),
        submission_token=token,
    )
    _new_labels(annotation, resolved)
    Assignment.objects.filter(pk=assignment.pk).update(
        status=Status.COMPLETED, finished_at=now
    )
    assignment.status, assignment.finished_at = Status.COMPLETED, now
    annotation.created = True
    return annotation


@transaction.atomic
def skip_span(
    *, coder, assignment: Assignment | int, reason: str, now: datetime | None = None
) -> Assignment:
    """Give a claimed span back with a reason; the coder will not get it again."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why you skip this span."})
    assignment = _lock_assignment(assignment, coder)
    if assignment.status != Status.CLAIMED:
        raise ValidationError("Only a span you currently hold can be skipped.")
    _release([(assignment.pk, assignment.work_item_id)], Status.SKIPPED, now)
    Assignment.objects.filter(pk=assignment.pk).update(skip_reason=reason[:500])
    assignment.refresh_from_db()
    return assignment
