#!/usr/bin/env python3
"""The queue's tail at scale: claims once no fresh span is left (k = 3, all sampled).

    .venv/bin/python bench/queue_tail.py [--spans 1000000] [--claims 300]
        [--database-url URL] [--keep-database]

One coder ("ahead") has coded every span of a k = 3 project (written with SQL, not
through the queue: the queue's own speed is what coding_loop.py measures). Then:

1. "catching up": a second coder claims and submits `--claims` spans. The first 100
   come from the window of started spans; after that every span in the window is
   their own, no span is fresh, and the claim looks past the coder's place
   (STARTED_AFTER_PLACE). Before the fix for "nothing left while work is left",
   this coder was told "done" after the window.
2. "a new coder": a third coder, with no place yet, claims and submits `--claims`.
3. "nothing left": the coder who is ahead asks again. Every started span is theirs,
   so the claim walks all of them before answering None: the price of never saying
   "done" early, paid only by a coder who has nothing left.

Prints p50/p95/p99 per phase. The database in the URL is dropped and re-created
unless --keep-database (then the corpus is reused): use a scratch name.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
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

SPANS_PER_DOCUMENT = 10
LABELS = {"topic": "arms_control", "stance": "neutral"}


def build(spans: int):
    from django.contrib.auth.models import User

    from annotator.codebooks import import_codebook, read_codebook_file
    from annotator.models import Membership
    from annotator.services import create_project

    codebook, _ = import_codebook(read_codebook_file(ROOT / "fixtures/codebook.yaml"))
    people = [
        User.objects.get_or_create(username=f"tail-{name}")[0]
        for name in ("ahead", "catching-up", "new")
    ]
    name = f"tail {spans:,} spans"
    corpus = reused_corpus(name, spans, SPANS_PER_DOCUMENT)
    project = create_project(
        name=f"{name} {time.strftime('%H:%M:%S')}",
        corpus=corpus,
        codebook=codebook,
        coders_per_span=3,
        sample_share=1.0,
        members={user: Membership.Role.CODER for user in people},
    )
    return project, people


def code_everything(project, coder) -> None:
    """The first coder's codings, as the queue would leave them: one completed
    assignment per span, finished in reading order, each span taken once."""
    from django.db import connection, transaction

    with Timer() as timer, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO annotator_assignment (project_id, work_item_id, span_id,"
            " coder_id, status, claimed_at, shown_at, expires_at, finished_at,"
            " skip_reason)"
            " SELECT w.project_id, w.id, w.span_id, %s, 'completed', now(), now(),"
            " now(), now() - interval '1 day' + w.position * interval '1 microsecond',"
            " '' FROM annotator_workitem AS w WHERE w.project_id = %s",
            [coder.pk, project.pk],
        )
        cursor.execute(
            "UPDATE annotator_workitem SET taken = 1 WHERE project_id = %s",
            [project.pk],
        )
    print(f"first coder's codings written in {timer.seconds:.1f} s", flush=True)
    with connection.cursor() as cursor:
        for table in ("annotator_workitem", "annotator_assignment"):
            cursor.execute(f"ANALYZE {table}")


def phase(label: str, project, coder, claims: int) -> None:
    from annotator.services import claim_next_span, submit_annotation

    times: dict[str, list[float]] = {"claim": [], "window": [], "past window": []}
    served = 0
    for n in range(claims):
        started = time.perf_counter()
        assignment = claim_next_span(project=project, coder=coder)
        elapsed = time.perf_counter() - started
        times["claim"].append(elapsed)
        times["window" if n < 100 else "past window"].append(elapsed)
        if assignment is None:
            break
        served += 1
        submit_annotation(coder=coder, assignment=assignment, labels=LABELS)
    print(f"{label}: {served} of {claims} claims served")
    for kind, values in times.items():
        if values:
            print(format_summary(f"  {kind}", latency_summary(values), sum(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=300)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_tail"
        ),
    )
    args = parser.parse_args()
    if not args.keep_database:
        recreate_database(args.database_url)
    migrate(args.database_url)
    setup_django(args.database_url)

    project, (ahead, catching_up, new) = build(args.spans)
    code_everything(project, ahead)
    phase("catching up (window, then past the coder's place)", project, catching_up,
          args.claims)  # fmt: skip
    phase("a new coder", project, new, args.claims)
    from annotator.services import claim_next_span

    answers = []
    for _ in range(3):
        with Timer() as timer:
            answer = claim_next_span(project=project, coder=ahead)
        answers.append(timer.seconds)
        assert answer is None, "the coder ahead has coded every span"
    print(
        "nothing left (the coder ahead asks again): "
        + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in answers)
    )


if __name__ == "__main__":
    main()
