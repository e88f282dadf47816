"""Hidden checks in the claim queue: when one is due and which pool item it is.

A check is a claim in the study's reference pool (annotator/training/pool.py),
taken by the queue's own ``_take`` with CHECK_PICK, so it runs the statements a
real claim runs. Whether one is due is a memoryless draw at 1/check_rate: nothing
to count, nothing to write. Tests replace ``RANDOM`` with a seeded Random.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from annotator.db import for_update
from annotator.models import Assignment
from annotator.services import queue_sql as sql
from annotator.training.pool import POSITION_BITS

RANDOM: random.Random = random.SystemRandom()


class Checks(NamedTuple):
    """What a claim needs to serve a check, read with the coder's lock."""

    pool: int | None  # the pool's project id (None: the study has no pool)
    rate: int  # about 1 in `rate` claims is a check; 0: none
    codebook: int  # the study's current codebook version


def check_due(rate: int) -> bool:
    """A Bernoulli draw at 1/rate (never for a rate of 0 or 1)."""
    return rate > 1 and RANDOM.random() * rate < 1


def due(checks: Checks) -> bool:
    """Whether this claim should try a check first."""
    return checks.pool is not None and check_due(checks.rate)


def pick() -> str:
    """The check pick, row-locked (SKIP LOCKED) where the database has row locks:
    the first eligible pool item at or after a random position, else before it."""
    lock = for_update("w", skip_locked=True)
    return sql.first_of([sql.check_sql(">=", lock), sql.check_sql("<", lock)])


def params(checks: Checks, study: int, claim_params: dict) -> dict:
    """The claim's parameters for a check: the claim is written in the pool."""
    return {
        **claim_params,
        "project": checks.pool,
        "study": study,
        "codebook": checks.codebook,
        "from": RANDOM.getrandbits(POSITION_BITS),
    }


def serve(take, checks: Checks, study: int, claim_params: dict) -> tuple | None:
    """Claim a hidden check with the queue's ``take`` if one is due and eligible
    (None: the claim goes on to real work)."""
    if not due(checks):
        return None
    return take(pick(), params(checks, study, claim_params))


def lapsed(pool: int, coder, now):
    """The coder's lapsed check claims (released as lapsed study claims are)."""
    return Assignment.objects.filter(
        project_id=pool, coder=coder, status=Assignment.Status.CLAIMED,
        expires_at__lte=now,
    )  # fmt: skip
