"""The claim queue: which span a coder gets next, under a lease, and giving it back.

The claim is each coder's request every few seconds, for hours: its statements are
fixed SQL strings (annotator/services/queue_sql.py) run through annotator.db, the
rare paths (releasing lapsed claims, removals) stay in the ORM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from annotator.access import CODER
from annotator.db import (
    aware,
    db_time,
    execute,
    fetch_row,
    for_update,
    from_row,
)
from annotator.models import Assignment, Project, WorkItem
from annotator.services import queue_checks, queue_order
from annotator.services import queue_sql as sql
from annotator.services.closed import CLOSED, ProjectClosed
from annotator.services.gate import NOT_CERTIFIED, NotCertified
from corpus.db import fast_path

Status = Assignment.Status
DEADLOCK_RETRIES = 5


def release_claims(
    claims: Sequence[tuple[int, int]], status: str, now: datetime
) -> None:
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
    projects = set(
        WorkItem.objects.filter(id__in=list(per_item))
        .order_by("id")
        .select_for_update()
        .values_list("project_id", flat=True)
    )
    for times in set(per_item.values()):
        WorkItem.objects.filter(
            id__in=[item for item, count in per_item.items() if count == times]
        ).update(taken=F("taken") - times)
    reopen_queues(projects)


def reopen_queues(project_ids) -> None:
    """A span may need coders who were told "nothing left": they must look again.

    Called by every write that gives a place back or asks for more codings.
    """
    Project.objects.filter(id__in=list(project_ids)).update(
        queue_version=F("queue_version") + 1
    )


def release_expired_claims(*, project: Project, now: datetime | None = None) -> int:
    """Expire claims whose lease ran out, so their spans return to the pool.

    (Claims release a project's lapsed claims themselves: see lock_coder.)
    """
    now = now or timezone.now()
    # Almost always there is nothing to release: one indexed probe, without the
    # transaction (two more round trips) that the locking read below needs.
    if fetch_row(f"SELECT 1 WHERE {sql.LAPSED}", [project.pk, db_time(now)]) is None:
        return 0
    with transaction.atomic():
        return release_lapsed(project, now)


def may_have_work(project: Project, coder, now: datetime | None = None) -> bool:
    """Whether a coder told "nothing left" may find a span now, without claiming
    one: a place was given back since (the project's queue_version moved past
    the coder's ``nothing_left_at``), or a claim's lease ran out and its span
    waits to be released. It may still find nothing (the span was theirs)."""
    now = now or timezone.now()
    row = fetch_row(
        "SELECT m.nothing_left_at IS NULL OR m.nothing_left_at <> p.queue_version,"
        f" {sql.LAPSED} FROM annotator_membership m"
        " JOIN annotator_project p ON p.id = m.project_id"
        " WHERE m.project_id = %s AND m.user_id = %s",
        [project.pk, db_time(now), project.pk, coder.pk],
    )
    return row is not None and any(row)


def release_lapsed(project: Project, now: datetime) -> int:
    """Expire the project's lapsed claims (in the caller's transaction)."""
    return release_held(
        Assignment.objects.filter(
            project=project, status=Status.CLAIMED, expires_at__lte=now
        ),
        now,
    )


def release_claims_of(coder, now: datetime) -> int:
    """Release every claim the coder holds, in every project, lease run out or
    not (in the caller's transaction): a deactivated account codes no more."""
    return release_held(
        Assignment.objects.filter(coder=coder, status=Status.CLAIMED), now
    )


def release_held(claims, now: datetime, *, leaving: bool = False) -> int:
    """Release these claims as a lapsed lease is released; returns how many.

    A claim on a span to code again (it has an annotation) goes back to waiting
    for its coder: that place is theirs, not the pool's. A claim locked by a
    submit in progress is passed over: the submit completes it.

    A coder ``leaving`` the project keeps no place: ``claims`` may then include
    the spans waiting for them to code again, and all go back to the pool for
    another coder (their annotations stay, with their history). A row locked by
    another release is waited for, not passed over: passed over, a lapsed-lease
    release could hand it back to a coder who is gone. (No submit of theirs can
    hold one: the caller holds their membership, which a submit locks first.)
    """
    stale = list(
        claims.select_for_update(skip_locked=not leaving, of=("self",)).values_list(
            "id", "work_item_id", "annotation__id"
        )
    )
    recodes = set() if leaving else {pk for pk, _, note in stale if note is not None}
    if recodes:
        Assignment.objects.filter(id__in=recodes).update(status=Status.RECODE)
    release_claims(
        [(pk, item) for pk, item, _ in stale if pk not in recodes],
        Status.EXPIRED,
        now,
    )
    return len(stale)


def release_places_of(project: Project, coder, now: datetime) -> int:
    """Give back every place a coder leaving the project holds (in the caller's
    transaction, holding their membership): live claims and spans waiting for
    them to code again go to the pool; their annotations stay."""
    return release_held(
        Assignment.objects.own_work(project, coder).filter(  # a live check too
            status__in=[Status.CLAIMED, Status.RECODE]
        ),
        now,
        leaving=True,
    )


def lock_member(memberships, *extra: str) -> tuple | None:
    """Lock a membership row: every write of a coder's queue state takes it first.

    One lock order for claims, submits and removals (membership, then work items and
    assignments) is what keeps them free of deadlocks: without it, a coder submitting
    a lapsed claim while re-claiming that same span held the assignment and waited
    for the work item that the claim held while it waited for the assignment.
    (Claims and submits take the same lock in SQL: lock_coder, and the submit's
    LOCK_SUBMITTER in annotator/services/submits.py.)
    """
    return memberships.select_for_update().values_list("pk", *extra).first()


def lock_coder(
    project: Project, coder, now: datetime, *, lease_only: bool = False
) -> bool:
    """Serialise one coder's own requests (a double click must not claim twice).

    Returns whether the project has lapsed claims to release: asked in the same
    round trip, since almost always there are none.
    """
    return _lock_coder(project, coder, now, lease_only=lease_only)[0]


def _lock_coder(
    project: Project, coder, now: datetime, *, lease_only: bool = False
) -> tuple[bool, int, int | None, queue_checks.Checks, bool]:
    """lock_coder, with the project's queue version, the version at which the
    coder was last told "nothing left", what hidden checks need and whether
    active learning is on. Refuses a closed project, and an uncertified coder
    where the gate is ``require``."""
    extra = ""
    if lease_only and fast_path("claim-without-sync-commit"):
        # A claim is a lease, not data: committing it without waiting for the WAL
        # flush saves a disk sync (~4 ms here) on every "next". A crash can lose
        # only the last fraction of a second of claims; their coders claim again.
        # Submits, which carry the codings, keep synchronous commits. set_config
        # (= SET LOCAL) rides on the lock's round trip instead of one of its own.
        extra = ", set_config('synchronous_commit', 'off', true)"
    locked = fetch_row(
        sql.LOCK_CODER.format(lapsed=sql.LAPSED, extra=extra, lock=for_update("m")),
        [project.pk, db_time(now), project.pk, coder.pk, CODER],
    )
    if locked is None:
        raise ValidationError("You are not a coder in this project.")
    lapsed, version, nothing_left_at, closed, gate, certified, *checks = locked[:9]
    active_learning = bool(locked[9])
    if closed:
        raise ProjectClosed(CLOSED)
    if gate == "require" and not certified:
        raise NotCertified(NOT_CERTIFIED)
    rate, codebook, pool = checks
    return (
        bool(lapsed),
        version,
        nothing_left_at,
        queue_checks.Checks(pool, rate, codebook),
        active_learning,
    )


def claim_next_span(
    *, project: Project, coder, now: datetime | None = None, shown: bool = False
) -> Assignment | None:
    """The coder's next span, claimed under a lease; None when nothing is left.

    shown=True: the span is being served to the coder now, so its clock starts now,
    written with the claim itself instead of in a second transaction and commit.

    Order of preference: the coder's live claim; a span to code again; then
    services.queue_order's (started spans, untouched ones, the last resort; with
    active learning, the remainder most uncertain first). None means that no
    span in the project needs this coder now. Candidate rows are
    locked with SKIP LOCKED, so concurrent coders and app processes never take the
    same place twice; on SQLite the IMMEDIATE transaction serialises claims instead.
    Every query walks an index in position order, so a claim's cost does not grow
    with the project; only the last resort, when nothing else is left, walks all
    started spans, and a coder it finds nothing for is not searched for again
    until a place is given back (Project.queue_version). The project's lapsed
    claims are released first, so their spans can be taken at once.

    `project` needs only its pk and lease_minutes loaded.
    """
    now = now or timezone.now()
    # Only a transaction of our own may skip waiting for the disk (see lock_coder);
    # a caller's transaction may hold writes that must be durable.
    own_transaction = not transaction.get_connection().in_atomic_block
    return _claim(project, coder, now, lease_only=own_transaction, shown=shown)


def _take(pick: str, params: dict) -> tuple | None:
    """Claim the span `pick` selects (and locks), if any: (assignment id, work
    item, span, skip reason)."""
    if fast_path("claim-in-one-statement"):
        return fetch_row(sql.TAKE_IN_ONE.replace("{pick}", pick), params)
    item = fetch_row(pick, params)
    if item is None:
        return None
    item_id, span_id = item
    execute(sql.COUNT_TAKEN, [item_id])
    return fetch_row(sql.INSERT_CLAIM, {**params, "item": item_id, "span": span_id})


@transaction.atomic
def _claim(
    project: Project, coder, now: datetime, *, lease_only: bool, shown: bool
) -> Assignment | None:
    lapsed, version, nothing_left_at, checks, active_learning = _lock_coder(
        project, coder, now, lease_only=lease_only
    )
    if lapsed and release_lapsed(project, now):
        version = None  # places were given back just now: look
    params = {
        "project": project.pk,
        "coder": coder.pk,
        "pool": checks.pool or project.pk,
    }
    (live_id, live_project, item_id, span_id, claimed_at, shown_at, expires_at,
     skip_reason, document_id, position, *recode) = fetch_row(
        sql.LIVE_AND_PLACE, params
    )  # fmt: skip
    if live_id is not None and aware(expires_at) > now:
        live = from_row(
            Assignment, id=live_id, project_id=live_project, work_item_id=item_id,
            span_id=span_id, coder_id=coder.pk, status=Status.CLAIMED,
            claimed_at=claimed_at, shown_at=shown_at, expires_at=expires_at,
            finished_at=None, skip_reason=skip_reason,
        )  # fmt: skip
        live.coder = coder
        if live_project == project.pk:  # a check's project (the pool) stays unloaded
            live.project = project
        if shown and live.shown_at is None:
            live.shown_at = now
            execute(
                "UPDATE annotator_assignment SET shown_at = %s WHERE id = %s",
                [db_time(now), live_id],
            )
        return live
    if live_id is not None and live_project != project.pk:  # a lapsed check
        release_held(queue_checks.lapsed(live_project, coder, now), now)
    if recode[0] is not None:
        return _claim_recode(project, coder, now, shown, *recode)
    if version is not None and nothing_left_at == version:
        # Told "nothing left" and no place given back since: still true. Saying so
        # at once spares a finished coder's every request the search below, which
        # must then walk every started span (all theirs) before it can answer.
        return None
    shown_at = now if shown else None
    expires_at = now + timedelta(minutes=project.lease_minutes)
    params.update(
        now=db_time(now), shown=db_time(shown_at), expires=db_time(expires_at)
    )
    if taken := queue_checks.serve(_take, checks, project.pk, params):
        return _claimed(checks.pool, taken, project, coder, now, shown_at, expires_at)
    candidates = queue_order.candidates(params, document_id, position, active_learning)
    picks = [pick(for_update("w", skip_locked=True)) for pick in candidates]
    if fast_path("claim-in-one-statement"):
        picks = [sql.first_of(picks)]
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
        taken = _wait_for_room([queue_order.ANY_STARTED, queue_order.FRESH], params)
    if taken is None:
        if version is not None:
            # The version read before the search: a place given back during it
            # bumps the version, so the coder looks again next time.
            execute(sql.NOTHING_LEFT, [version, project.pk, coder.pk, CODER])
        return None
    return _claimed(project.pk, taken, project, coder, now, shown_at, expires_at)


def _claimed(project_id, taken, project, coder, now, shown_at, expires_at):
    """The assignment a claim just wrote (in the study, or in its pool)."""
    assignment_id, item_id, span_id, skip_reason = taken
    assignment = from_row(
        Assignment, id=assignment_id, project_id=project_id, work_item_id=item_id,
        span_id=span_id, coder_id=coder.pk, status=Status.CLAIMED, claimed_at=now,
        shown_at=shown_at, expires_at=expires_at, finished_at=None,
        skip_reason=skip_reason,
    )  # fmt: skip
    assignment.coder = coder
    if project_id == project.pk:  # a check's project (the pool) stays unloaded
        assignment.project = project
    return assignment


def _claim_recode(
    project: Project, coder, now: datetime, shown: bool, pk: int, item: int, span: int
) -> Assignment:
    """Hand the coder back a span they coded under an older codebook version
    (marked by services.codebook_move): before any new span, oldest first."""
    shown_at = now if shown else None
    expires_at = now + timedelta(minutes=project.lease_minutes)
    execute(
        sql.CLAIM_RECODE, [db_time(now), db_time(shown_at), db_time(expires_at), pk]
    )
    taken = (pk, item, span, "")
    assignment = _claimed(project.pk, taken, project, coder, now, shown_at, expires_at)
    assignment.recode = True
    return assignment


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
                for pick in candidates:
                    taken = _take(pick(for_update("w")), params)
                    if taken:
                        return taken
                return None
        except OperationalError as error:
            deadlock = getattr(error.__cause__, "sqlstate", None) == "40P01"
            if not deadlock or attempt == DEADLOCK_RETRIES - 1:
                raise
    return None
