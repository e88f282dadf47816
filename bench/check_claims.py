#!/usr/bin/env python3
"""Hidden checks in the claim queue: do check claims take as long as real ones?

    .venv/bin/python bench/check_claims.py [--spans 100000] [--checks 300]
        [--rate 5] [--coders 4] [--seconds 30] [--database-url URL]

1. A project over a `--spans`-span synthetic corpus (k = 2 on a 20 % sample), with
   `--checks` check items (training.pool) on spans marked fully coded in the study
   (as adjudicated spans are when reviewers mark them) and a check rate of 1 in
   `--rate` (5 rather than a study's 20, to gather many checks in a short run).
2. `--coders` threads, each on its own connection, claim → submit for
   `--seconds` through the service layer, as bench/coding_loop.py does; each claim
   and each submit is timed and sorted by what it served: a real span or a check.
3. Prints p50/p95/p99 of both kinds, the share of claims that were checks, and the
   statements one claim of each kind runs (the blindness tests pin them equal).

A coder who could time their requests would see a check only if its claim or its
submit took noticeably less or more time than a real one; there is no padding, so
this is the evidence. The database in the URL is dropped and re-created.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    Timer,
    format_summary,
    latency_summary,
    migrate,
    recreate_database,
    reused_corpus,
    setup_django,
)
from coding_loop import analyze  # noqa: E402

LABELS = {"topic": "arms_control", "stance": "neutral"}


def build(spans: int, checks: int, rate: int, coders: int):
    from django.contrib.auth.models import User
    from django.db.models import F

    from annotator.codebooks import import_codebook, read_codebook_file
    from annotator.models import Membership, ReferenceItem, WorkItem
    from annotator.services import create_project
    from annotator.training.pool import place_check

    codebook, _ = import_codebook(read_codebook_file(ROOT / "fixtures/codebook.yaml"))
    users = [
        User.objects.get_or_create(username=f"bench-checker-{n:02d}")[0]
        for n in range(coders)
    ]
    corpus = reused_corpus(f"bench {spans:,} spans", spans, 10)
    project = create_project(
        name=f"checks bench {time.strftime('%H:%M:%S')}",
        corpus=corpus,
        codebook=codebook,
        coders_per_span=2,
        sample_share=0.2,
        members={user: Membership.Role.CODER for user in users},
    )
    project.check_rate = rate
    project.save(update_fields=["check_rate"])
    # The last spans become check items, their study places full (no coder of
    # this run ever gets them as real work, as with adjudicated spans).
    last = list(
        WorkItem.objects.filter(project=project)
        .order_by("-position")
        .values_list("span_id", flat=True)[:checks]
    )
    WorkItem.objects.filter(project=project, span_id__in=last).update(taken=F("target"))
    for span_id in last:
        place_check(
            ReferenceItem.objects.create(
                project=project,
                codebook=codebook,
                span_id=span_id,
                use=ReferenceItem.Use.CHECK,
                codes={"topic": ["arms_control"], "stance": ["neutral"]},
            )
        )
    return project, users


def statements(project, user) -> dict[str, int]:
    """Statements of one claim of each kind (rolled back), as the tests count."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from annotator.services import claim_next_span, queue_checks

    counts = {}
    real_random = queue_checks.RANDOM
    try:
        for kind, draw in (("real", 0.99), ("check", 0.0)):

            class Fixed:
                random = staticmethod(lambda draw=draw: draw)
                getrandbits = staticmethod(real_random.getrandbits)

            queue_checks.RANDOM = Fixed()
            with CaptureQueriesContext(connection) as seen, transaction.atomic():
                claim_next_span(project=project, coder=user)
                transaction.set_rollback(True)
            counts[kind] = len(seen.captured_queries)
    finally:
        queue_checks.RANDOM = real_random
    return counts


def run(project, users, seconds: float) -> None:
    from django.db import connection

    from annotator.services import claim_next_span, submit_annotation

    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    barrier = threading.Barrier(len(users))

    def code(user) -> None:
        try:
            barrier.wait(timeout=60)
            while time.monotonic() < deadline:
                started = time.perf_counter()
                assignment = claim_next_span(project=project, coder=user)
                claim = time.perf_counter() - started
                if assignment is None:
                    return
                kind = "check" if assignment.project_id != project.pk else "real"
                times[f"{kind} claim"].append(claim)
                started = time.perf_counter()
                submit_annotation(
                    coder=user,
                    assignment=assignment,
                    labels=LABELS,
                    token=uuid.uuid4().hex,
                )
                times[f"{kind} submit"].append(time.perf_counter() - started)
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=code, args=(user,)) for user in users]
    with Timer() as timer:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    claims = len(times["real claim"]) + len(times["check claim"])
    share = len(times["check claim"]) / claims if claims else float("nan")
    print(
        f"  {len(users)} threads for {timer.seconds:.1f} s; {claims} claims, "
        f"{share:.1%} checks; errors: {len(errors)}"
    )
    for message in errors[:5]:
        print(f"    {message}")
    for label in ("real claim", "check claim", "real submit", "check submit"):
        print(format_summary(label, latency_summary(times[label]), timer.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--rate", type=int, default=5)
    parser.add_argument("--coders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_checks"
        ),
    )
    args = parser.parse_args()
    recreate_database(args.database_url)
    migrate(args.database_url)
    setup_django(args.database_url)
    with Timer() as timer:
        project, users = build(args.spans, args.checks, args.rate, args.coders)
    print(f"built in {timer.seconds:.1f} s: {project.name}", flush=True)
    analyze()
    print("statements per claim:", statements(project, users[0]), flush=True)
    run(project, users, args.seconds)


if __name__ == "__main__":
    main()
