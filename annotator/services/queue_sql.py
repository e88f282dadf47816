"""The claim queue's SQL text: the statements a claim runs, as fixed strings.

Kept apart from the claim's logic (annotator/services/queue.py) so the order of
preference reads in one place and the statements in another. The conditions repeat
the queue's partial indexes word for word (see WorkItem's Meta) so the planner uses
them; every statement is the same on PostgreSQL and SQLite but for the row locks
(``annotator.db.for_update``) and the one-statement claim (TAKE_IN_ONE, FIRST_OF),
which are PostgreSQL fast paths.
"""

from __future__ import annotations

# Positions are (document rank << DOCUMENT_SHIFT) + span index: ordered without
# sorting a million rows in memory, and unique as long as a document has fewer than
# 4 billion spans (services.projects writes them, claims read a document's range).
DOCUMENT_SHIFT = 32
# Only a window of started spans is looked at (see started_sql).
STARTED_WINDOW = 100

# Is there a lapsed claim in the project? Asked with the coder's lock (LOCK_CODER)
# and by release_expired_claims: almost always there is none.
LAPSED = (
    "EXISTS (SELECT 1 FROM annotator_assignment"
    " WHERE project_id = %s AND status = 'claimed' AND expires_at <= %s)"
)
# The coder's membership row, locked: every write of a coder's queue state takes it
# first (see queue.lock_member). {extra} carries PostgreSQL's set_config on the
# same round trip; {lock} is the row-lock clause (of the membership only).
# Also read: the project's queue version, the version at which this coder was
# last told "nothing left" (see queue.claim_next_span), whether the project
# is closed (services.lifecycle: a closed project takes no claims), the
# certification gate and whether the coder passed it (services.gate), what
# hidden checks need (services.queue_checks): the rate, the codebook, the pool;
# and whether active learning orders the remainder (services.queue_order).
LOCK_CODER = (
    "SELECT {lapsed}, p.queue_version, m.nothing_left_at, p.closed_at IS NOT NULL,"
    " p.certification_gate, m.certified_at IS NOT NULL, p.check_rate, p.codebook_id,"
    " (SELECT pool.id FROM annotator_project AS pool WHERE pool.pool_of_id = p.id),"
    " p.active_learning{extra} FROM annotator_membership AS m"
    " JOIN annotator_project AS p ON p.id = m.project_id"
    " WHERE m.project_id = %s AND m.user_id = %s AND m.role = %s{lock}"
)
NOTHING_LEFT = (
    "UPDATE annotator_membership SET nothing_left_at = %s"
    " WHERE project_id = %s AND user_id = %s AND role = %s"
)

# After the coder's lock (so a concurrent request of this coder is seen), one round
# trip for the coder's state: their live claim, their first span to code again
# (services.codebook_move: oldest first), and their place, i.e. their latest
# submit, found through the (project, coder, status, finished_at) index in one step
# however many spans they have coded. The live claim has no expiry condition: with
# one, the planner walks the live-claim index by expiry across every project's
# claims, not this coder's. The newest comes first: if it has lapsed, all have.
# The live claim is looked for in the coder's own work (OWN: the study and its
# pool), so a reload serves a check again; the place and the recode stay the
# study's (a check never moves the coder's place in their document).
OWN = "project_id IN (%(project)s, %(pool)s)"
LIVE_AND_PLACE = f"""
SELECT live.id, live.project_id, live.work_item_id, live.span_id, live.claimed_at,
       live.shown_at,
       live.expires_at, live.skip_reason, place.document_id, place.position,
       recode.id, recode.work_item_id, recode.span_id
FROM (SELECT 1 AS one) AS here
LEFT JOIN (
    SELECT id, project_id, work_item_id, span_id, claimed_at, shown_at, expires_at,
           skip_reason
    FROM annotator_assignment
    WHERE {OWN} AND coder_id = %(coder)s AND status = 'claimed'
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
LEFT JOIN (
    SELECT id, work_item_id, span_id FROM annotator_assignment
    WHERE project_id = %(project)s AND coder_id = %(coder)s AND status = 'recode'
    ORDER BY finished_at, id LIMIT 1
) AS recode ON 1 = 1
"""
# A span to code again becomes the coder's live claim: its place was never given
# back (the work item's `taken` still counts it), so no work item changes. Its
# finished_at (the first coding) stays: should the claim lapse, it is back in
# line where it was (NULLs would sort last on PostgreSQL, first on SQLite).
CLAIM_RECODE = (
    "UPDATE annotator_assignment SET status = 'claimed', claimed_at = %s,"
    " shown_at = %s, expires_at = %s WHERE id = %s"
)

# Where to look for the next span, in the order tried. The conditions repeat the
# partial indexes' predicates (workitem_partial_idx, workitem_fresh_idx) word for
# word, so the planner can use them.
STARTED_ANYWHERE = "w.taken > 0 AND w.taken < w.target"
FRESH = "w.taken = 0"
# Started spans past the coder's place: a coder catching up on others' work finds
# the next one a few rows on (the spans behind them are mostly their own).
STARTED_AFTER_PLACE = f"{STARTED_ANYWHERE} AND w.position > %(position)s"
# The rest of the coder's document, as a range of positions too (a position is the
# document's rank << DOCUMENT_SHIFT, plus the span's index): then whichever index the
# planner picks reads only this document's remaining spans, even with statistics
# that predate the project (a million-row scan otherwise). A document's range is
# bounded already: no window needed there.
HERE = (
    "w.document_id = %(document)s"
    " AND w.position > %(position)s AND w.position < %(end)s"
)
# "Not one of mine" by work item (one per project and span, so the same test as by
# project, span and coder): its index finds the one or two claims a work item has
# whatever the statistics say. By (project, span, coder), a new project's claims
# planned with statistics from before it had any (autovacuum analyses a big table
# only after 10% of it changed) walked every claim of the project per candidate.
NOT_MINE = (
    " AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS mine"
    " WHERE mine.work_item_id = w.id AND mine.coder_id = %(coder)s"
    " AND mine.status <> 'expired')"
)
# Nor a span the coder met as a hidden check (services.queue_checks): served again
# as real work, it would tell them that the first one was a check. A check is
# served only on a span full in the study, but a lapsed claim, a skip, a coder
# leaving or a design asking for more coders can open it again. One probe of the
# (project, span, coder) index in the pool; without a pool %(pool)s is the study
# and the second condition makes it find nothing.
NOT_MET_AS_CHECK = (
    " AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS met"
    " WHERE met.project_id = %(pool)s AND met.span_id = w.span_id"
    " AND met.coder_id = %(coder)s AND met.project_id <> %(project)s)"
)


# Active learning (services.queue_order): the reliability sample's untouched
# spans; and the single-coded remainder's with an uncertainty, most uncertain
# first, which repeats workitem_uncertain_idx's predicate and order word for word
# (IS NOT NULL: PostgreSQL sorts NULLs first in a DESC index, SQLite last).
SAMPLE_FRESH = f"{FRESH} AND w.in_sample"
UNCERTAIN_REMAINDER = f"{FRESH} AND NOT w.in_sample AND w.uncertainty IS NOT NULL"
READING_ORDER = "w.position"
MOST_UNCERTAIN = "w.uncertainty DESC, w.position"


def candidate_sql(condition: str, lock: str, order: str = READING_ORDER) -> str:
    return (
        "SELECT w.id, w.span_id FROM annotator_workitem AS w"
        f" WHERE w.project_id = %(project)s AND {condition}{NOT_MINE}"
        f"{NOT_MET_AS_CHECK}"
        f" ORDER BY {order} LIMIT 1{lock}"
    )


def started_sql(lock: str) -> str:
    """The first started span not mine among the first STARTED_WINDOW started.

    Only a window is looked at here: a coder who worked alone leaves thousands
    started by themself, and walking past all of them on every claim would grow
    with their work. Beyond the window they get fresh spans; the window moves on as
    others finish the started ones. The window is read once, in position order, and
    joined (an IN (window) was re-read for every candidate row). The started spans
    beyond the window are not forgotten: once there is no fresh span, the claim
    looks at all of them (STARTED_AFTER_PLACE, then STARTED_ANYWHERE).
    """
    return (
        "SELECT w.id, w.span_id FROM (SELECT id, position FROM annotator_workitem"
        " WHERE project_id = %(project)s AND taken > 0 AND taken < target"
        f" ORDER BY position LIMIT {STARTED_WINDOW}) AS first_started"
        " JOIN annotator_workitem AS w ON w.id = first_started.id"
        f" WHERE {STARTED_ANYWHERE}{NOT_MINE}{NOT_MET_AS_CHECK}"
        f" ORDER BY first_started.position LIMIT 1{lock}"
    )


# A span whose claim lapsed can come back to the same coder: the row exists then.
# INSERT … ON CONFLICT DO UPDATE covers both cases in one statement.
CLAIM_COLUMNS = """
    project_id, work_item_id, span_id, coder_id, status, claimed_at, shown_at,
    expires_at, finished_at, skip_reason
"""
CLAIM_VALUES = """
    %(project)s, %(item)s, %(span)s, %(coder)s, 'claimed', %(now)s, %(shown)s,
    %(expires)s, NULL, ''
"""
ON_RECLAIM = """
ON CONFLICT (project_id, span_id, coder_id) DO UPDATE SET
    work_item_id = excluded.work_item_id, status = excluded.status,
    claimed_at = excluded.claimed_at, shown_at = excluded.shown_at,
    expires_at = excluded.expires_at, finished_at = NULL
RETURNING id, work_item_id, span_id, skip_reason
"""
# PostgreSQL: the candidate, its count and the claim in one statement. The pick
# runs once (MATERIALIZED: never inlined, so never re-run by a join), and an empty
# pick inserts nothing.
TAKE_IN_ONE = (
    "WITH pick AS MATERIALIZED ({pick}),"
    " taken AS (UPDATE annotator_workitem AS t SET taken = t.taken + 1 FROM pick"
    " WHERE t.id = pick.id RETURNING t.id, t.span_id)"
    f" INSERT INTO annotator_assignment ({CLAIM_COLUMNS})"
    " SELECT "
    + CLAIM_VALUES.replace("%(item)s", "taken.id").replace("%(span)s", "taken.span_id")
    + " FROM taken"
    + ON_RECLAIM
)
# Elsewhere (and as the fast path's portable twin): the same in two statements.
COUNT_TAKEN = "UPDATE annotator_workitem SET taken = taken + 1 WHERE id = %s"
INSERT_CLAIM = (
    f"INSERT INTO annotator_assignment ({CLAIM_COLUMNS})"
    f" VALUES ({CLAIM_VALUES}){ON_RECLAIM}"
)


# A hidden check (services.queue_checks): a pool item at or after (">=") or
# before ("<") a random position, whose reference item is a live check on the
# study's codebook, and which this coder has never had from the pool, never
# had as study work, never answered, and whose study work item is full (so the
# span never comes back to them in the queue).
CHECK_PICK = """
SELECT w.id, w.span_id FROM annotator_workitem AS w
JOIN annotator_referenceitem AS r ON r.project_id = %(study)s AND r.span_id = w.span_id
WHERE w.project_id = %(project)s AND w.position {op} %(from)s
  AND r.use = 'check' AND r.retired_at IS NULL AND r.codebook_id = %(codebook)s
  AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS mine
      WHERE mine.work_item_id = w.id AND mine.coder_id = %(coder)s)
  AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS met
      WHERE met.project_id = %(study)s AND met.span_id = w.span_id
        AND met.coder_id = %(coder)s)
  AND NOT EXISTS (SELECT 1 FROM annotator_workitem AS study
      WHERE study.project_id = %(study)s AND study.span_id = w.span_id
        AND study.taken < study.target)
  AND NOT EXISTS (SELECT 1 FROM annotator_checkanswer AS answered
      WHERE answered.item_id = r.id AND answered.coder_id = %(coder)s)
ORDER BY w.position LIMIT 1{lock}
"""


def check_sql(op: str, lock: str) -> str:
    return CHECK_PICK.replace("{op}", op).replace("{lock}", lock)


def first_of(picks: list[str]) -> str:
    """PostgreSQL: the candidate kinds in one statement, tried in order. A UNION
    ALL's branches run one after the other and LIMIT stops at the first row, so a
    kind after one that yields is never run (EXPLAIN says "never executed")."""
    kinds = " UNION ALL ".join(
        f"SELECT * FROM ({pick}) AS kind_{n}" for n, pick in enumerate(picks)
    )
    return f"SELECT * FROM ({kinds}) AS candidates LIMIT 1"
