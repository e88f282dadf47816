"""Multi-model writes: project set-up, the claim queue, submits, skips.

Called alike from pages, the API, commands and tests. Keyword-only arguments; bad
input raises django.core.exceptions.ValidationError and writes nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import groupby, islice

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import DateTimeField, Exists, F, Prefetch
from django.db.models.signals import post_delete, post_save
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
    gold_methods: Sequence[str] = ("unanimous", "single"),
    gold_min_share: float = 0.5,
    gold_min_posterior: float = 0.9,
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
    """Expire claims whose lease ran out, so their spans return to the pool.

    (Claims release a project's lapsed claims themselves: see _lock_coder.)
    """
    now = now or timezone.now()
    # Almost always there is nothing to release: one indexed probe, without the
    # transaction (two more round trips) that the locking read below needs.
    if fetch_row(f"SELECT 1 WHERE {_LAPSED}", [project.pk, _db_time(now)]) is None:
        return 0
    with transaction.atomic():
        return _release_lapsed(project, now)


def _release_lapsed(project: Project, now: datetime) -> int:
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
    (Claims and submits take the same lock in SQL: _lock_coder, _LOCK_SUBMITTER.)
    """
    return memberships.select_for_update().values_list("pk", *extra).first()


# The claim and the submit are the coders' hot path: a request every few seconds
# per coder, for hours. Their statements are written out in SQL, fixed strings with
# parameters: building and compiling the equivalent QuerySets cost 0.3-0.4 ms of
# CPU per query, several times what the database spends running them. The rare
# paths (releasing lapsed claims, skips, revisions, replays) stay in the ORM. The
# SQL is the same on PostgreSQL and SQLite but for the row locks, which SQLite does
# without (its IMMEDIATE transactions serialise the writers).


def fetch_rows(sql: str, params: Mapping | Sequence = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_row(sql: str, params: Mapping | Sequence = ()) -> tuple | None:
    rows = fetch_rows(sql, params)
    return rows[0] if rows else None


def _execute(sql: str, params: Mapping | Sequence = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _for_update(of: str = "", *, skip_locked: bool = False) -> str:
    """The row-lock clause where the database has row locks ("" on SQLite)."""
    if not connection.features.has_select_for_update:
        return ""
    return (
        " FOR UPDATE"
        + (f" OF {of}" if of else "")
        + (" SKIP LOCKED" if skip_locked else "")
    )


def _db_time(value: datetime | None):
    """A datetime as a query parameter (SQLite stores naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def _aware(value) -> datetime | None:
    """A datetime read by raw SQL: PostgreSQL returns it aware, SQLite naive UTC."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def from_row(model, **values):
    """An instance of values read by raw SQL, as the ORM would load it: not
    "unsaved", datetimes aware; fields not given are deferred (read on first
    access, never silently empty)."""
    names = []
    for field in model._meta.concrete_fields:
        if field.attname in values:
            names.append(field.attname)
            if isinstance(field, DateTimeField):
                values[field.attname] = _aware(values[field.attname])
    return model.from_db(connection.alias, names, [values[name] for name in names])


_LAPSED = (
    "EXISTS (SELECT 1 FROM annotator_assignment"
    " WHERE project_id = %s AND status = 'claimed' AND expires_at <= %s)"
)


def _lock_coder(
    project: Project, coder, now: datetime, *, lease_only: bool = False
) -> bool:
    """Serialise one coder's own requests (a double click must not claim twice).

    Returns whether the project has lapsed claims to release: asked in the same
    round trip, since almost always there are none.
    """
    extra = ""
    if lease_only and connection.vendor == "postgresql":
        # A claim is a lease, not data: committing it without waiting for the WAL
        # flush saves a disk sync (~4 ms here) on every "next". A crash can lose
        # only the last fraction of a second of claims; their coders claim again.
        # Submits, which carry the codings, keep synchronous commits. set_config
        # (= SET LOCAL) rides on the lock's round trip instead of one of its own.
        extra = ", set_config('synchronous_commit', 'off', true)"
    locked = fetch_row(
        f"SELECT {_LAPSED}{extra} FROM annotator_membership"
        " WHERE project_id = %s AND user_id = %s AND role = 'coder'" + _for_update(),
        [project.pk, _db_time(now), project.pk, coder.pk],
    )
    if locked is None:
        raise ValidationError("You are not a coder in this project.")
    return bool(locked[0])


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
    the project. The project's lapsed claims are released first, so their spans
    can be taken at once.

    `project` needs only its pk and lease_minutes loaded.
    """
    now = now or timezone.now()
    # Only a transaction of our own may skip waiting for the disk (see _lock_coder);
    # a caller's transaction may hold writes that must be durable.
    own_transaction = not transaction.get_connection().in_atomic_block
    return _claim(project, coder, now, lease_only=own_transaction, shown=shown)


STARTED_WINDOW = 100

# After the coder's lock (so a concurrent request of this coder is seen), one round
# trip for the coder's state: their live claim, and their place, i.e. their latest
# submit, found through the (project, coder, status, finished_at) index in one step
# however many spans they have coded. The live claim has no expiry condition: with
# one, the planner walks the live-claim index by expiry across every project's
# claims, not this coder's. The newest comes first: if it has lapsed, all have.
_LIVE_AND_PLACE = """
SELECT live.id, live.work_item_id, live.span_id, live.claimed_at, live.shown_at,
       live.expires_at, live.skip_reason, place.document_id, place.position
FROM (SELECT 1 AS one) AS here
LEFT JOIN (
    SELECT id, work_item_id, span_id, claimed_at, shown_at, expires_at, skip_reason
    FROM annotator_assignment
    WHERE project_id = %(project)s AND coder_id = %(coder)s AND status = 'claimed'
    ORDER BY claimed_at DESC LIMIT 1
) AS live ON 1 = 1
LEFT JOIN (
    SELECT w.document_id, w.position
    FROM annotator_assignment AS a
    JOIN annotator_workitem AS w ON w.id = a.work_item_id
    WHERE a.project_id = %(project)s AND a.coder_id = %(coder)s
      AND a.status = 'completed'
    ORDER BY a.finished_at DESC LIMIT 1
) AS place ON 1 = 1
"""

# Where to look for the next span, in the order tried. The conditions repeat the
# partial indexes' predicates (workitem_partial_idx, workitem_fresh_idx) word for
# word, so the planner can use them.
_STARTED_ANYWHERE = "w.taken > 0 AND w.taken < w.target"
_FRESH = "w.taken = 0"
# The rest of the coder's document, as a range of positions too (a position is the
# document's rank << DOCUMENT_SHIFT, plus the span's index): then whichever index the
# planner picks reads only this document's remaining spans, even with statistics
# that predate the project (a million-row scan otherwise). A document's range is
# bounded already: no window needed there.
_HERE = (
    "w.document_id = %(document)s"
    " AND w.position > %(position)s AND w.position < %(end)s"
)
# "Not one of mine" by work item (one per project and span, so the same test as by
# project, span and coder): its index finds the one or two claims a work item has
# whatever the statistics say. By (project, span, coder), a new project's claims
# planned with statistics from before it had any (autovacuum analyses a big table
# only after 10% of it changed) walked every claim of the project per candidate.
_NOT_MINE = (
    " AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS mine"
    " WHERE mine.work_item_id = w.id AND mine.coder_id = %(coder)s"
    " AND mine.status <> 'expired')"
)


def _candidate_sql(condition: str, lock: str) -> str:
    return (
        "SELECT w.id, w.span_id FROM annotator_workitem AS w"
        f" WHERE w.project_id = %(project)s AND {condition}{_NOT_MINE}"
        f" ORDER BY w.position LIMIT 1{lock}"
    )


def _started_sql(lock: str) -> str:
    """The first started span not mine among the first STARTED_WINDOW started.

    Only a window is looked at: a coder who worked alone leaves thousands started
    by themself, and walking past all of them on every claim would grow with their
    work. Beyond the window they get fresh spans; the window moves on as others
    finish the started ones. The window is read once, in position order, and joined
    (an IN (window) was re-read for every candidate row).
    """
    return (
        "SELECT w.id, w.span_id FROM (SELECT id, position FROM annotator_workitem"
        " WHERE project_id = %(project)s AND taken > 0 AND taken < target"
        f" ORDER BY position LIMIT {STARTED_WINDOW}) AS first_started"
        " JOIN annotator_workitem AS w ON w.id = first_started.id"
        f" WHERE {_STARTED_ANYWHERE}{_NOT_MINE}"
        f" ORDER BY first_started.position LIMIT 1{lock}"
    )


# A span whose claim lapsed can come back to the same coder: the row exists then.
# INSERT … ON CONFLICT DO UPDATE covers both cases in one statement.
_CLAIM_COLUMNS = """
    project_id, work_item_id, span_id, coder_id, status, claimed_at, shown_at,
    expires_at, finished_at, skip_reason
"""
_CLAIM_VALUES = """
    %(project)s, %(item)s, %(span)s, %(coder)s, 'claimed', %(now)s, %(shown)s,
    %(expires)s, NULL, ''
"""
_ON_RECLAIM = """
ON CONFLICT (project_id, span_id, coder_id) DO UPDATE SET
    work_item_id = excluded.work_item_id, status = excluded.status,
    claimed_at = excluded.claimed_at, shown_at = excluded.shown_at,
    expires_at = excluded.expires_at, finished_at = NULL
RETURNING id, work_item_id, span_id, skip_reason
"""
# PostgreSQL: the candidate, its count and the claim in one statement. The pick
# runs once (MATERIALIZED: never inlined, so never re-run by a join), and an empty
# pick inserts nothing.
_TAKE_IN_ONE = (
    "WITH pick AS MATERIALIZED ({pick}),"
    " taken AS (UPDATE annotator_workitem AS t SET taken = t.taken + 1 FROM pick"
    " WHERE t.id = pick.id RETURNING t.id, t.span_id)"
    f" INSERT INTO annotator_assignment ({_CLAIM_COLUMNS})"
    " SELECT "
    + _CLAIM_VALUES.replace("%(item)s", "taken.id").replace("%(span)s", "taken.span_id")
    + " FROM taken"
    + _ON_RECLAIM
)


def _first_of(picks: list[str]) -> str:
    """PostgreSQL: the candidate kinds in one statement, tried in order. A UNION
    ALL's branches run one after the other and LIMIT stops at the first row, so a
    kind after one that yields is never run (EXPLAIN says "never executed")."""
    kinds = " UNION ALL ".join(
        f"SELECT * FROM ({pick}) AS kind_{n}" for n, pick in enumerate(picks)
    )
    return f"SELECT * FROM ({kinds}) AS candidates LIMIT 1"


def _take(pick: str, params: dict) -> tuple | None:
    """Claim the span `pick` selects (and locks), if any: (assignment id, work
    item, span, skip reason)."""
    if connection.vendor == "postgresql":
        return fetch_row(_TAKE_IN_ONE.replace("{pick}", pick), params)
    item = fetch_row(pick, params)
    if item is None:
        return None
    item_id, span_id = item
    _execute("UPDATE annotator_workitem SET taken = taken + 1 WHERE id = %s", [item_id])
    return fetch_row(
        f"INSERT INTO annotator_assignment ({_CLAIM_COLUMNS})"
        f" VALUES ({_CLAIM_VALUES}){_ON_RECLAIM}",
        {**params, "item": item_id, "span": span_id},
    )


@transaction.atomic
def _claim(
    project: Project, coder, now: datetime, *, lease_only: bool, shown: bool
) -> Assignment | None:
    if _lock_coder(project, coder, now, lease_only=lease_only):
        _release_lapsed(project, now)
    params = {"project": project.pk, "coder": coder.pk}
    (live_id, item_id, span_id, claimed_at, shown_at, expires_at, skip_reason,
     document_id, position) = fetch_row(_LIVE_AND_PLACE, params)  # fmt: skip
    if live_id is not None and _aware(expires_at) > now:
        live = from_row(
            Assignment, id=live_id, project_id=project.pk, work_item_id=item_id,
            span_id=span_id, coder_id=coder.pk, status=Status.CLAIMED,
            claimed_at=claimed_at, shown_at=shown_at, expires_at=expires_at,
            finished_at=None, skip_reason=skip_reason,
        )  # fmt: skip
        live.project, live.coder = project, coder
        if shown and live.shown_at is None:
            live.shown_at = now
            _execute(
                "UPDATE annotator_assignment SET shown_at = %s WHERE id = %s",
                [_db_time(now), live_id],
            )
        return live

    started, fresh = _started_sql, partial(_candidate_sql, _FRESH)
    candidates = [started, fresh]
    if document_id is not None:
        end_of_document = ((position >> DOCUMENT_SHIFT) + 1) << DOCUMENT_SHIFT
        params.update(document=document_id, position=position, end=end_of_document)
        candidates = [
            partial(_candidate_sql, f"{_STARTED_ANYWHERE} AND {_HERE}"),
            started,
            partial(_candidate_sql, f"{_FRESH} AND {_HERE}"),
            fresh,
        ]
    shown_at = now if shown else None
    expires_at = now + timedelta(minutes=project.lease_minutes)
    params.update(
        now=_db_time(now), shown=_db_time(shown_at), expires=_db_time(expires_at)
    )
    picks = [sql(_for_update("w", skip_locked=True)) for sql in candidates]
    if connection.vendor == "postgresql":
        picks = [_first_of(picks)]
    taken = None
    for pick in picks:
        taken = _take(pick, params)
        if taken:
            break
    if taken is None and connection.features.has_select_for_update_skip_locked:
        # SKIP LOCKED also passes over spans that other coders are claiming at this
        # instant and that may still have room for this coder: "nothing left" must
        # not depend on that timing (a coder told so stops, and near the end spans
        # would stay under-coded). So wait for those rows in turn: such claims commit
        # within milliseconds, and a row they filled no longer matches once the lock
        # is granted (PostgreSQL re-checks it), so the scan moves on to the next.
        taken = _wait_for_room([started, fresh], params)
    if taken is None:
        return None
    assignment_id, item_id, span_id, skip_reason = taken
    assignment = from_row(
        Assignment, id=assignment_id, project_id=project.pk, work_item_id=item_id,
        span_id=span_id, coder_id=coder.pk, status=Status.CLAIMED, claimed_at=now,
        shown_at=shown_at, expires_at=expires_at, finished_at=None,
        skip_reason=skip_reason,
    )  # fmt: skip
    assignment.project, assignment.coder = project, coder
    return assignment


DEADLOCK_RETRIES = 5


def _wait_for_room(candidates: list, params: dict) -> tuple | None:
    """The waiting pass of a claim (see _claim), retried when PostgreSQL picks it
    as a deadlock victim.

    A row whose lock was granted but that no longer matches stays locked until the
    transaction ends, so two coders waiting in turn can end up in a cycle. Each
    attempt runs in a savepoint: the victim rolls back only this pass, releasing
    the rows it holds, and the other claim goes through; then it tries again.
    """
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with transaction.atomic():
                for sql in candidates:
                    taken = _take(sql(_for_update("w")), params)
                    if taken:
                        return taken
                return None
        except OperationalError as error:
            deadlock = getattr(error.__cause__, "sqlstate", None) == "40P01"
            if not deadlock or attempt == DEADLOCK_RETRIES - 1:
                raise
    return None


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


# {codebook id: its dimensions}, for codebooks in use only: a version with
# annotations is frozen (annotator/codebooks.py; the admin refuses edits), so what
# was read once stays true, and a submit need not read the codebook again. A version
# not yet in use may still be edited in place: read each time until it is. Saving or
# deleting a codebook, dimension or category in this process empties the cache.
_IN_USE_CODEBOOKS: dict[int, dict[str, Dimension]] = {}


def _forget_codebooks(**kwargs) -> None:
    _IN_USE_CODEBOOKS.clear()


for _model in (Codebook, Dimension, Category):
    for _signal in (post_save, post_delete):
        _signal.connect(
            _forget_codebooks, sender=_model, dispatch_uid=f"codebook-cache-{_model}"
        )


def _dimensions(codebook_id: int) -> dict[str, Dimension]:
    """{key: dimension} of a codebook, in order, each with `category_map`.

    One query (dimensions outer-joined to their categories, so a dimension without
    any still comes), where prefetching took two; full instances, no deferred
    fields. Callers must not change what they get: it may be shared.
    """
    cached = _IN_USE_CODEBOOKS.get(codebook_id)
    if cached is not None:
        return cached
    dimension_fields = [field.attname for field in Dimension._meta.concrete_fields]
    category_fields = [field.attname for field in Category._meta.concrete_fields]
    rows = (
        Dimension.objects.filter(codebook_id=codebook_id)
        .annotate(in_use=Exists(Annotation.objects.filter(codebook_id=codebook_id)))
        .order_by("position", "pk", "categories__position", "categories__pk")
        .values_list(
            *dimension_fields,
            *(f"categories__{name}" for name in category_fields),
            "in_use",
        )
    )
    n = len(dimension_fields)
    dimensions: dict[str, Dimension] = {}
    in_use = False
    for *row, in_use in rows:  # noqa: B007 - the same on every row; kept after
        dimension = Dimension(**dict(zip(dimension_fields, row[:n], strict=True)))
        dimension = dimensions.setdefault(dimension.key, dimension)
        if not hasattr(dimension, "category_map"):
            dimension.category_map = {}
        if row[n] is not None:
            category = Category(**dict(zip(category_fields, row[n:], strict=True)))
            category.dimension = dimension
            dimension.category_map[category.key] = category
    if in_use:
        _IN_USE_CODEBOOKS[codebook_id] = dimensions
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


_LABEL_COLUMNS = (
    "annotation_id, project_id, span_id, coder_id, dimension_id, category_id"
)


def _labels_of(
    annotation: Annotation, resolved: list[tuple[int, Category]], ids: Sequence[int]
) -> list[Label]:
    """The stored labels as instances, kept on the annotation (no re-read)."""
    assignment = annotation.assignment
    labels = []
    for (_, category), pk in zip(resolved, ids, strict=True):
        label = from_row(
            Label, id=pk, annotation_id=annotation.pk,
            project_id=assignment.project_id, span_id=assignment.span_id,
            coder_id=assignment.coder_id, dimension_id=category.dimension_id,
            category_id=category.pk,
        )  # fmt: skip
        label.annotation, label.dimension, label.category = (
            annotation, category.dimension, category
        )  # fmt: skip
        labels.append(label)
    annotation._prefetched_objects_cache = {"labels": labels}
    return labels


def _new_labels(annotation: Annotation, resolved: list[tuple[int, Category]]) -> None:
    """Insert the resolved labels and keep them on the instance (no re-read)."""
    assignment = annotation.assignment
    ids = []
    if resolved:
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(resolved))
        ids = fetch_rows(
            f"INSERT INTO annotator_label ({_LABEL_COLUMNS})"
            f" VALUES {rows} RETURNING id",
            [
                value
                for _, category in resolved
                for value in (
                    annotation.pk,
                    assignment.project_id,
                    assignment.span_id,
                    assignment.coder_id,
                    category.dimension_id,
                    category.pk,
                )  # fmt: skip
            ],
        )
    _labels_of(annotation, resolved, [pk for (pk,) in ids])


def _store_in_one(n_labels: int) -> str:
    """PostgreSQL: a first submit's annotation, labels and the assignment's new
    status in one statement (one round trip where three were)."""
    labels = ""
    label_ids = "ARRAY[]::bigint[]"
    if n_labels:
        chosen = ", ".join(["(%s::bigint, %s::bigint)"] * n_labels)
        labels = (
            f" labels AS (INSERT INTO annotator_label ({_LABEL_COLUMNS})"
            " SELECT annotation.id, %s, %s, %s, chosen.dimension_id,"
            f" chosen.category_id FROM annotation, (VALUES {chosen})"
            " AS chosen (dimension_id, category_id) RETURNING id),"
        )
        # Ids come from one sequence in VALUES order: sorted, they pair up.
        label_ids = "ARRAY(SELECT id FROM labels ORDER BY id)"
    return (
        f"WITH annotation AS ({_INSERT_ANNOTATION}),{labels}"
        " completed AS (UPDATE annotator_assignment"
        " SET status = 'completed', finished_at = %s WHERE id = %s)"
        f" SELECT annotation.id, {label_ids} FROM annotation"
    )


# The coder's membership first, the lock claims take first too (see _lock_member).
# A removed member holds no lock to take: they can no longer claim either.
_LOCK_SUBMITTER = (
    "SELECT id FROM annotator_membership WHERE user_id = %s"
    " AND project_id = (SELECT project_id FROM annotator_assignment WHERE id = %s)"
)
# Then the assignment, with what the submit checks and what its caller answers
# with: the project's codebook (its version), the span, an earlier annotation.
_SUBMIT_STATE = """
SELECT a.id, a.project_id, a.work_item_id, a.span_id, a.coder_id, a.status,
       a.claimed_at, a.shown_at, a.expires_at, a.finished_at, a.skip_reason,
       p.codebook_id, p.lease_minutes, c.version, s.document_id, s."index", s.text,
       n.id
FROM annotator_assignment AS a
JOIN annotator_project AS p ON p.id = a.project_id
JOIN annotator_codebook AS c ON c.id = p.codebook_id
JOIN corpus_span AS s ON s.id = a.span_id
LEFT JOIN annotator_annotation AS n ON n.assignment_id = a.id
WHERE a.id = %s
"""
_INSERT_ANNOTATION = (
    "INSERT INTO annotator_annotation (assignment_id, project_id, codebook_id,"
    " uncertain, comment, seconds, submission_token, created_at, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def _locked_for_submit(pk: int, coder) -> tuple[Assignment, int | None]:
    """Lock the coder's membership, then the assignment: (it, its annotation's id).

    The assignment comes with its project (codebook, lease), codebook (version)
    and span (document, index, text) loaded, each with just those fields.
    """
    fetch_row(_LOCK_SUBMITTER + _for_update(), [coder.pk, pk])
    row = fetch_row(_SUBMIT_STATE + _for_update("a"), [pk])
    if row is None or row[4] != coder.pk:
        raise ValidationError("This span is not assigned to you.")
    (pk, project_id, item_id, span_id, coder_id, status, claimed_at, shown_at,
     expires_at, finished_at, skip_reason, codebook_id, lease_minutes, version,
     document_id, index, text, annotation_id) = row  # fmt: skip
    assignment = from_row(
        Assignment, id=pk, project_id=project_id, work_item_id=item_id,
        span_id=span_id, coder_id=coder_id, status=status,
        claimed_at=claimed_at, shown_at=shown_at, expires_at=expires_at,
        finished_at=finished_at, skip_reason=skip_reason,
    )  # fmt: skip
    assignment.project = from_row(
        Project, id=project_id, codebook_id=codebook_id, lease_minutes=lease_minutes
    )
    assignment.project.codebook = from_row(Codebook, id=codebook_id, version=version)
    assignment.span = from_row(
        Span, id=span_id, document_id=document_id, index=index, text=text
    )
    assignment.coder = coder
    return assignment, annotation_id


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
    a replay or a revision), its labels loaded, its codebook's version, and its
    assignment with the span (id, document, index, text) and project: callers can
    answer without reading it back.
    """
    now = now or timezone.now()
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    assignment, annotation_id = _locked_for_submit(pk, coder)
    if annotation_id is not None:
        return _resubmit(
            assignment, annotation_id, coder, labels, uncertain, comment, token
        )
    if assignment.status == Status.SKIPPED:
        raise ValidationError("You skipped this span; it is no longer yours to code.")
    codebook = assignment.project.codebook
    resolved = resolve_labels(codebook, labels)
    comment = comment.strip()
    _renew_lapsed_claim(assignment, now)
    started = assignment.shown_at or assignment.claimed_at
    seconds = max((now - started).total_seconds(), 0.0)
    stored_at = timezone.now()
    row = [
        assignment.pk, assignment.project_id, codebook.pk, uncertain, comment,
        seconds, token, _db_time(stored_at), _db_time(stored_at),
    ]  # fmt: skip
    completed = [_db_time(now), assignment.pk]
    if connection.vendor == "postgresql":
        who = [assignment.project_id, assignment.span_id, assignment.coder_id]
        chosen = [v for _, c in resolved for v in (c.dimension_id, c.pk)]
        annotation_id, label_ids = fetch_row(
            _store_in_one(len(resolved)),
            row + (who + chosen if resolved else []) + completed,
        )
    else:
        (annotation_id,) = fetch_row(_INSERT_ANNOTATION, row)
        label_ids = None
        _execute(
            "UPDATE annotator_assignment SET status = 'completed', finished_at = %s"
            " WHERE id = %s",
            completed,
        )
    annotation = from_row(
        Annotation, id=annotation_id, assignment_id=assignment.pk,
        project_id=assignment.project_id, codebook_id=codebook.pk,
        uncertain=uncertain, comment=comment, seconds=seconds,
        submission_token=token, created_at=stored_at, updated_at=stored_at,
    )  # fmt: skip
    annotation.assignment, annotation.codebook = assignment, codebook
    if label_ids is None:
        _new_labels(annotation, resolved)
    else:
        _labels_of(annotation, resolved, label_ids)
    assignment.status, assignment.finished_at = Status.COMPLETED, now
    annotation.created = True
    return annotation


def _resubmit(
    assignment: Assignment,
    annotation_id: int,
    coder,
    labels: Mapping[str, str | Sequence[str]],
    uncertain: bool,
    comment: str,
    token: str,
) -> Annotation:
    """A submit for an assignment already annotated: a replay, or a revision."""
    existing = (
        Annotation.objects.select_related("codebook")
        .prefetch_related(LABELS_LOADED)
        .get(pk=annotation_id)
    )
    existing.assignment = assignment
    existing.created = False
    if token and existing.submission_token == token:
        return existing
    if assignment.status == Status.SKIPPED:
        raise ValidationError("You skipped this span; it is no longer yours to code.")
    resolved = resolve_labels(existing.codebook, labels)
    old = _state(existing)
    existing.uncertain, existing.comment = uncertain, comment.strip()
    Label.objects.filter(annotation=existing).delete()
    _new_labels(existing, resolved)
    new = _state(existing)
    if new != old:
        existing.submission_token = token
        existing.save()
        AnnotationRevision.objects.create(
            annotation=existing, changed_by=coder, old=old, new=new
        )
    return existing


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
