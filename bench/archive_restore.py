#!/usr/bin/env python3
"""Restore benchmark: time and peak memory of restore_project on a 10,000-span archive.

What the restore's checks cost (issue 12): the same archive restored by this
checkout's code and, with --code-root, by another checkout's (e.g. main's).

    .venv/bin/python bench/archive_restore.py \
        --database-url postgres://postgres@127.0.0.1:5432/restore_bench
    .venv/bin/python bench/archive_restore.py --code-root /work/main \
        --database-url postgres://postgres@127.0.0.1:5432/restore_bench

The first run creates and migrates the database, writes a corpus of 1,000
documents × 10 spans (bench/_common.py), a project with the default codebook, two
coders who each code 2,000 spans and a gold refresh, and archives it to
--archive. Every run then restores that archive --repeat times into the same
database (each restore's rows are deleted after it) and prints the wall time of
each, then once more under tracemalloc for Python's peak heap.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    migrate,
    recreate_database,
    setup_django,
    synthetic_corpus,
)

CODED = 2_000


def build(archive: Path) -> None:
    from django.contrib.auth import get_user_model

    from annotator.archive import archive_project
    from annotator.codebooks import import_codebook, read_codebook_file
    from annotator.gold import refresh_gold
    from annotator.models import Membership
    from annotator.services import claim_next_span, create_project, submit_annotation

    corpus = synthetic_corpus(
        name="restore-bench", documents=1_000, spans_per_document=10
    )
    codebook, _ = import_codebook(read_codebook_file(ROOT / "fixtures/codebook.yaml"))
    User = get_user_model()
    coders = [User.objects.create(username=f"coder{i}") for i in (1, 2)]
    project = create_project(
        name="restore-bench", corpus=corpus, codebook=codebook, coders_per_span=2
    )
    for user in coders:
        Membership.objects.create(project=project, user=user)
    topics = [c.key for c in codebook.dimensions.get(key="topic").categories.all()]
    stances = [c.key for c in codebook.dimensions.get(key="stance").categories.all()]
    for n in range(CODED):
        for i, user in enumerate(coders):
            assignment = claim_next_span(project=project, coder=user)
            submit_annotation(
                coder=user,
                assignment=assignment,
                labels={
                    "topic": topics[(n + i) % len(topics)],
                    "stance": stances[n % 2],
                },
            )
    refresh_gold(project)
    counts = archive_project(project, archive)
    print(f"archived {sum(counts.values()):,} rows to {archive}: {counts}", flush=True)


def clear() -> None:
    """Remove what a restore made, so the next one restores into the same state."""
    from annotator.models import Codebook, Project
    from corpus.models import Corpus

    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--archive", default="/tmp/restore-bench.jsonl.gz")
    parser.add_argument("--code-root", help="restore with this checkout's code")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    archive = Path(args.archive)
    if not archive.exists():
        recreate_database(args.database_url)
        migrate(args.database_url)
        setup_django(args.database_url)
        build(archive)
        clear()
        return print("built; run again to measure", flush=True)
    if args.code_root:
        sys.path.insert(0, args.code_root)
    setup_django(args.database_url)
    import annotator
    from annotator.archive import restore_project

    print(f"code: {Path(annotator.__file__).parent.parent}", flush=True)
    clear()
    for _ in range(args.repeat):
        started = time.perf_counter()
        restore_project(archive)
        print(f"restore: {time.perf_counter() - started:.2f} s", flush=True)
        clear()
    tracemalloc.start()
    restore_project(archive)
    peak = tracemalloc.get_traced_memory()[1] / 1024**2
    tracemalloc.stop()
    print(f"restore under tracemalloc: peak Python heap {peak:.1f} MB", flush=True)
    clear()


if __name__ == "__main__":
    main()
