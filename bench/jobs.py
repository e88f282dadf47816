#!/usr/bin/env python3
"""Jobs benchmark: reading gold at 1,000,000 spans while a refresh runs behind.

Targets (issue 13): right after a gold settings change, the adjudication page and
the gold export's first byte <= 300 ms (the refresh runs in a worker, the pages
read the last finished gold); the refresh itself <= 60 s and <= 500 MB in the
worker; the adjudication queue's first page <= 300 ms.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gold_bench
    .venv/bin/python bench/jobs.py

Reuses ``bench/agreement.py``'s data in that database (it generates it on the
first run). gunicorn serves the app with production settings and one
``manage.py db_worker`` runs beside it, as in production. Each round changes the
project's gold settings (the minimum posterior, so every label is recomputed),
then, while the worker refreshes, times the adjudication page (as a reviewer,
through a session) every half second and the first byte of gold.csv (through an
API token) with every tenth page, and finally reads the job's own figures: its
wall time and the worker's peak RSS (VmHWM from /proc). The gold tables are
vacuumed before each round, as autovacuum keeps them; ``--methods`` sets the
project's rules first (``unanimous,single,model`` for the Dawid-Skene refresh).
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from _common import (  # noqa: E402
    ROOT,
    bench_env,
    collectstatic,
    latency_summary,
    status_kb,
    vacuum_gold,
)
from _http_round import gunicorn  # noqa: E402

from bench.agreement import ensure_database, existing_project, generate  # noqa: E402

EXPORT_EVERY = 10  # the export's first byte is timed with every 10th page


def timed_get(port: int, path: str, headers: dict[str, str], *, whole: bool) -> float:
    """Seconds to the first byte of the body (``whole``: to its end)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status} {response.read()[:300]!r}")
    if whole:
        response.read()
    else:
        response.read(1)
    seconds = time.perf_counter() - started
    connection.close()  # a first-byte probe leaves the rest of the export unread
    return seconds


def reviewer_credentials(project) -> tuple[str, str]:
    """A reviewer's session cookie and API token, made without the login form."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from annotator.services import set_membership

    user, _ = User.objects.get_or_create(username="bench-reviewer")
    set_membership(project=project, user=user, role="reviewer")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    token, _ = Token.objects.get_or_create(user=user)
    return session.session_key, token.key


@contextmanager
def db_worker(url: str) -> Iterator[int]:
    """One ``manage.py db_worker`` (its pid), stopped as an operator would (SIGTERM)."""
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "db_worker"],
        env=bench_env(url, TASKS_BACKEND="database"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield worker.pid
    finally:
        worker.terminate()
        worker.wait(timeout=120)


def active_jobs(project):
    from annotator.models import Job

    return Job.objects.filter(project=project, state__in=("queued", "running"))


def wait_until_idle(project, *, timeout: float = 900.0) -> None:
    """Until no job of the project waits or runs (one left by an earlier run)."""
    deadline = time.monotonic() + timeout
    while active_jobs(project).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the project's jobs did not finish within the timeout")
        time.sleep(0.5)


def one_round(port, project, session_key, token, worker_pid, round_number) -> None:
    from annotator.models import Job

    adjudicate = f"/projects/{project.pk}/adjudicate/"
    gold_csv = f"/api/v1/projects/{project.pk}/gold.csv"
    page_headers = {"Cookie": f"sessionid={session_key}"}
    api_headers = {"Authorization": f"Token {token}"}
    wait_until_idle(project)
    print(vacuum_gold(os.environ["DATABASE_URL"]), flush=True)
    last = Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    load = os.getloadavg()[0]
    # A settings change: every automatic label must be recomputed.
    project.refresh_from_db()
    project.gold_min_posterior = 0.9 if project.gold_min_posterior != 0.9 else 0.8
    project.save(update_fields=["gold_min_posterior"])
    page_times, export_times = [], []
    started = time.perf_counter()
    while True:
        page_times.append(timed_get(port, adjudicate, page_headers, whole=True))
        if len(page_times) % EXPORT_EVERY == 1:
            # Not every time: an export given up after its first byte still
            # runs a few seconds on the server, and a pile of them is a load
            # of its own.
            export_times.append(timed_get(port, gold_csv, api_headers, whole=False))
        asked = Job.objects.filter(project=project, pk__gt=last).exists()
        if (asked and not active_jobs(project).exists()) or (
            time.perf_counter() - started > 900
        ):
            break
        time.sleep(0.5)
    jobs = list(Job.objects.filter(project=project, pk__gt=last))
    ran = [job for job in jobs if job.started_at and job.finished_at]
    wall = max(((j.finished_at - j.started_at).total_seconds() for j in ran), default=0)
    states = ", ".join(f"{job.pk} {job.state}" for job in jobs)
    after = [timed_get(port, adjudicate, page_headers, whole=True) for _ in range(5)]
    for label, times in (
        ("adjudication page while refreshing", page_times),
        ("gold.csv first byte while refreshing", export_times),
        ("adjudication page after", after),
    ):
        ms = latency_summary(times)
        print(
            f"round {round_number}: {label}: n={ms['n']} p50 {ms['p50']:.0f} ms, "
            f"p99 {ms['p99']:.0f} ms, max {ms['max']:.0f} ms",
            flush=True,
        )
    print(
        f"round {round_number}: refresh job(s) [{states}]: {wall:.1f} s in the "
        f"worker; worker peak RSS {status_kb(worker_pid, 'VmHWM') / 1024:.0f} MB; "
        f"load at start {load:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--methods",
        help="the project's gold_methods for the run, comma-separated "
        "(e.g. unanimous,single,model); default: leave them as they are",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if "postgres" not in url:
        sys.exit("set DATABASE_URL=postgres://.../gold_bench (the benchmark is for PG)")
    ensure_database(url)
    os.environ.update(bench_env(url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    project = existing_project(args.spans)
    if project is None:
        generate(args.spans, args.share)
        project = existing_project(args.spans)
    if args.methods:
        project.gold_methods = args.methods.split(",")
        project.save(update_fields=["gold_methods"])
    collectstatic(url)
    session_key, token = reviewer_credentials(project)
    from annotator.gold import gold_is_fresh
    from annotator.services.jobs import request_gold_refresh

    if not gold_is_fresh(project):
        print("bringing the gold up to date first (untimed)…", flush=True)
        with db_worker(url):
            request_gold_refresh(project)
            wait_until_idle(project)
    with gunicorn(url, args.workers, args.threads) as port:
        print(
            f"{args.spans:,} spans; gunicorn {args.workers}x{args.threads}; "
            "a fresh db_worker each round",
            flush=True,
        )
        for n in range(1, args.rounds + 1):
            with db_worker(url) as worker_pid:
                one_round(port, project, session_key, token, worker_pid, n)


if __name__ == "__main__":
    main()
