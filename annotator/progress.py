"""How far coders are: the coding screen's share bar, the project page's chart.

Reads only; their cost does not grow with the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from django.contrib.auth import get_user_model

from annotator.db import fetch_row
from annotator.models import Annotation, Assignment, Membership, Project
from annotator.services import queue_sql

Status = Assignment.Status
# The coding screen's bar counts at most this many open spans per page view (see
# coder_progress): the cost of a page must not grow with the project.
OPEN_COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Progress:
    """The coder's done / share, and what is left of it."""

    done: int
    share: int
    beyond_share: bool = False

    @property
    def left(self) -> int:
        return max(self.share - self.done, 0)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.share) if self.share else 100


# The coder's done and held counts, and the spans still open to them (room left,
# never theirs) counted up to what the share could still use: one round trip, as
# the coding screen asks after every submit. "Open" is the queue's own condition
# (annotator/services/queue_sql.py). "Never theirs" is the queue's NOT_MINE plus
# the project: counting up to a thousand rows, PostgreSQL hashes the coder's
# assignments, and without the project those are every assignment the coder ever
# had, in every project.
NOT_MINE_HERE = """
    AND NOT EXISTS (SELECT 1 FROM annotator_assignment AS mine
        WHERE mine.work_item_id = w.id AND mine.coder_id = %(coder)s
          AND mine.project_id = %(project)s AND mine.status <> 'expired')
"""
PROGRESS = f"""
WITH mine AS (
    SELECT COUNT(*) FILTER (WHERE status = 'completed') AS done,
           COUNT(*) FILTER (WHERE status = 'claimed') AS held
    FROM annotator_assignment
    WHERE {queue_sql.OWN} AND coder_id = %(coder)s
)
SELECT mine.done, mine.held, (
    SELECT COUNT(*) FROM (
        SELECT 1 FROM annotator_workitem AS w
        WHERE w.project_id = %(project)s
          AND (({queue_sql.FRESH}) OR ({queue_sql.STARTED_ANYWHERE}))
          {NOT_MINE_HERE}{queue_sql.NOT_MET_AS_CHECK}
        LIMIT (
            SELECT CASE WHEN room < 0 THEN 0 WHEN room > %(limit)s THEN %(limit)s
                        ELSE room END + 1
            FROM (SELECT %(even)s - done - held AS room FROM mine) AS left_over
        )
    ) AS open_items
)
FROM mine
"""


def coder_progress(project: Project, coder, n_coders: int) -> Progress:
    """How far the coder is through their share of the project.

    share = min(ceil(total_codings / number of coders), done + held + open), where
    total_codings is the project's designed number of codings, held is the coder's
    live claim and open counts spans this coder could still be given (room left,
    never skipped or coded by them). The even split is the fair target when every
    coder keeps going; the cap makes "left" honest near the end, when others have
    taken the rest. A coder who goes past the even split keeps being served, so
    their share grows to what they have done and hold, and `beyond_share` says so.

    done and held count the coder's hidden checks too (the study's pool: a check
    is counted as a span is), and the even split is scaled by check_share.

    Cost: one query, not growing with the project. The open count walks only open
    queue rows (through the queue's partial indexes) and stops at what the share
    could still use, and at OPEN_COUNT_LIMIT: while more spans than that are open to
    the coder the even split is shown as is, so the cap is exact over the last
    OPEN_COUNT_LIMIT spans, which is where it matters.
    """
    even = ceil(project.total_codings / max(n_coders, 1) * check_share(project))
    done, held, open_items = fetch_row(
        PROGRESS,
        {
            "project": project.pk,
            "pool": getattr(project, "own_pool", project.pk),
            "coder": coder.pk,
            "even": even,
            "limit": OPEN_COUNT_LIMIT,
        },
    )
    share = min(even, done + held + open_items)
    if open_items > OPEN_COUNT_LIMIT:
        share = even
    beyond = done + held > even
    return Progress(done=done, share=max(share, done + held), beyond_share=beyond)


def check_share(project: Project) -> float:
    """The coder's own count includes their hidden checks (about 1 claim in
    check_rate): the even share grows by rate / (rate - 1) to make room for them.
    Read from what access.coding_project loaded (`own_pool`: the pool, or the
    study when there is none; not loaded: no pool)."""
    if getattr(project, "own_pool", project.pk) == project.pk:
        return 1.0
    rate = project.check_rate
    return rate / (rate - 1) if rate >= 2 else 1.0


@dataclass
class CoderRow:
    """One coder's line in the project page's progress chart."""

    user_id: int
    username: str
    member: bool
    done: int = 0
    skipped: int = 0
    live: int = 0
    median_seconds: float | None = None
    last_active: datetime | None = None
    share: int = 0
    done_pct: float = 0.0
    skipped_pct: float = 0.0


def coder_rows(project: Project, only_user=None) -> list[CoderRow]:
    """Per-coder progress in three queries whatever the number of coders.

    Current coders without work yet are listed too; former members keep their line
    while they have work in the project. `only_user`: just that coder's line.
    Each bar is scaled to the coder's own share, the even split of the project's
    designed codings over its current coders (coder_progress without its
    near-the-end cap, which costs a query per coder), or what the coder has done,
    skipped and holds if that is more (a coder past the even split, or a former one).
    """
    coders = Membership.objects.filter(project=project, role=Membership.Role.CODER)
    assignments = Assignment.objects.filter(project=project)
    annotations = Annotation.objects.for_project(project)
    if only_user is not None:  # a coder's own line counts their hidden checks
        assignments = Assignment.objects.own_work(project, only_user)
        annotations = Annotation.objects.own_work(project, only_user)
    # Every current coder is read (the even split needs their number), then only
    # `only_user`'s line is kept.
    current = list(coders.values_list("user_id", "user__username"))
    even = ceil(project.total_codings / max(len(current), 1))
    rows = {
        user_id: CoderRow(user_id, username, member=True)
        for user_id, username in current
        if only_user is None or user_id == only_user.pk
    }
    stats = list(assignments.coder_stats())
    missing = {row["coder_id"] for row in stats} - set(rows)
    for user_id, username in (
        get_user_model().objects.filter(pk__in=missing).values_list("pk", "username")
    ):
        rows[user_id] = CoderRow(user_id, username, member=False)
    medians = annotations.median_seconds_by_coder()
    for row in stats:
        line = rows[row["coder_id"]]
        line.done, line.skipped, line.live = row["done"], row["skipped"], row["live"]
        times = [t for t in (row["last_claimed"], row["last_finished"]) if t]
        line.last_active = max(times) if times else None
    for line in rows.values():
        line.median_seconds = medians.get(line.user_id)
    for line in rows.values():
        worked = line.done + line.skipped + line.live
        line.share = max(even, worked) if line.member else worked
        if line.share:
            line.done_pct = round(100 * line.done / line.share, 1)
            line.skipped_pct = round(
                min(100 * line.skipped / line.share, 100 - line.done_pct), 1
            )
    return sorted(rows.values(), key=lambda line: (-line.done, line.username))
