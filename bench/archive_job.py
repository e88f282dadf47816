#!/usr/bin/env python3
"""Archive benchmark: what running archive_project as a job costs over the command.

    .venv/bin/python bench/archive_job.py \
        --database-url postgres://postgres@127.0.0.1:5432/archive_bench --spans 100000

Reuses bench/export.py's data (a corpus of one-sentence spans, a project with a
gold label per span on two dimensions, written with COPY; made on the first run).
Then, each once per `--repeat`: `write_archive` to a temporary file (what
`manage.py archive_project` does); the job's work `run_archive` (the same bytes into
1 MB database chunks, rows counted as they pass, in one transaction); and reading
the stored archive back chunk by chunk (what the download streams). Prints times,
rows, bytes and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import migrate, peak_rss_mb, setup_django  # noqa: E402
from agreement import ensure_database  # noqa: E402
from export import existing_project, generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/archive_bench"
        ),
    )
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("the archive benchmark is for PostgreSQL: --database-url postgres://…")
    ensure_database(args.database_url)
    migrate(args.database_url)
    setup_django(args.database_url)
    project = existing_project(args.spans) or generate(args.spans)

    from annotator.archive import write_archive
    from annotator.models import Job, JobKind
    from annotator.services import job_files
    from annotator.services.archive_jobs import run_archive

    print(f"load average before: {os.getloadavg()}", flush=True)
    for attempt in range(1, args.repeat + 1):
        started = time.perf_counter()
        with tempfile.TemporaryFile() as out:
            counts = write_archive(project, out)
            size = out.tell()
        command = time.perf_counter() - started

        job = Job.objects.create(project=None, kind=JobKind.ARCHIVE)
        job.project = project  # not saved: no one-at-a-time constraint in the way
        started = time.perf_counter()
        run_archive(job, lambda *step: None)
        as_job = time.perf_counter() - started
        stored = job.files.get()
        started = time.perf_counter()
        read = sum(len(chunk) for chunk in job_files.chunks(stored))
        download = time.perf_counter() - started
        job.delete()
        print(
            f"run {attempt}: {sum(counts.values()):,} rows, {size / 1e6:.1f} MB; "
            f"command {command:.1f} s, job {as_job:.1f} s "
            f"({job.result['size'] / 1e6:.1f} MB stored), "
            f"read back {download:.1f} s ({read / 1e6:.1f} MB); "
            f"peak RSS {peak_rss_mb()} MB",
            flush=True,
        )
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
