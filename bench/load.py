"""Load: 32 coders (claim → submit, no think time) for 60 s, plus reviewers reading
the agreement dashboard and exporting, over HTTP against gunicorn on PostgreSQL.

    .venv/bin/python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/ops_load

Runs once with one gunicorn instance, then with two instances on two ports sharing
the database (coders alternate between them, as behind a load balancer). Each run
uses a fresh project and then checks, in the database:

- zero 5xx answers (any status >= 500 fails the run);
- every submit answered 201 is in the database exactly once (one annotation for that
  assignment, with that submission token), and no annotation exists that no 201
  acknowledged;
- no span has more live assignments (claimed or completed) than its designed coders.

Prints throughput and p50/p95/p99 per request kind; exits 1 if an invariant fails.
Drops and re-creates the database it is given: use a scratch name. All traffic is on
127.0.0.1; every loop ends at its deadline.
"""

from __future__ import annotations

import argparse
import http.client
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    bench_env,
    format_summary,
    latency_summary,
    migrate,
    recreate_database,
    setup_django,
    synthetic_corpus,
)
from _http_round import gunicorn  # noqa: E402
from coding_loop import LABELS, Client, coders  # noqa: E402

REVIEWER = "bench-reviewer"
REVIEWER_PASSWORD = "bench-reviewer-password-1"
REVIEWER_PAUSE = 0.5  # seconds between a reviewer's reads: reviewers read, coders race


def build(spans: int, users: list, reviewer, codebook):
    from annotator.models import Membership
    from annotator.services import create_project
    from corpus.models import Corpus

    name = f"load {spans:,} spans"
    corpus = Corpus.objects.filter(name=name).first() or synthetic_corpus(
        name=name, documents=spans // 10, spans_per_document=10
    )
    members = {user: Membership.Role.CODER for user in users}
    members[reviewer] = Membership.Role.REVIEWER
    # A large reliability sample with k=3: most spans are contended by several coders.
    return create_project(
        name=f"{name} {time.strftime('%H:%M:%S')}",
        corpus=corpus,
        codebook=codebook,
        coders_per_span=3,
        sample_share=0.5,
        members=members,
    )


class Browser:
    """A reviewer's keep-alive session, logged in through the login form."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "") -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body.encode(), headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, payload

    def log_in(self, username: str, password: str) -> None:
        _, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        status, _ = self.request(
            "POST",
            "/login/",
            f"csrfmiddlewaretoken={token.group(1).decode()}"
            f"&username={username}&password={password}",
        )
        if status != 302:
            raise SystemExit(f"the reviewer could not log in ({status})")


def run(project, tokens: list[str], ports: list[int], seconds: float, reviewers: int):
    """Coders and reviewers until the deadline; returns what the clients saw."""
    deadline = time.monotonic() + seconds
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter = Counter()
    acknowledged: list[tuple[int, str]] = []  # (assignment, token) answered 201
    lock = threading.Lock()
    claim_path = f"/api/v1/projects/{project.pk}/claim/"

    def code(index: int, token: str) -> None:
        client = Client(ports[index % len(ports)], token)
        try:
            while time.monotonic() < deadline:
                status, payload, took = client.post(claim_path)
                with lock:
                    statuses[("claim", status)] += 1
                    latencies["claim"].append(took)
                if status == 204:
                    return
                if status != 200:
                    continue
                assignment = int(re.search(rb'"assignment":\s*(\d+)', payload)[1])
                submit_token = uuid.uuid4().hex
                status, _, took = client.post(
                    f"/api/v1/assignments/{assignment}/submit/",
                    {"labels": LABELS, "uncertain": False, "token": submit_token},
                )
                with lock:
                    statuses[("submit", status)] += 1
                    latencies["submit"].append(took)
                    if status == 201:
                        acknowledged.append((assignment, submit_token))
        finally:
            client.close()

    def review(index: int) -> None:
        try:
            reading(index)
        except Exception as error:  # counted, so a broken reviewer fails the run
            with lock:
                statuses[("reviewer crashed: " + repr(error)[:80], 599)] += 1

    def reading(index: int) -> None:
        browser = Browser(ports[index % len(ports)])
        browser.log_in(REVIEWER, REVIEWER_PASSWORD)
        reads = [
            ("dashboard", f"/projects/{project.pk}/agreement/"),
            ("agreement api", f"/api/v1/projects/{project.pk}/agreement/"),
        ]
        status, _ = browser.request("GET", f"/api/v1/projects/{project.pk}/gold.csv")
        if status != 404:  # the gold export, where this checkout has it
            reads.append(("export", f"/api/v1/projects/{project.pk}/gold.csv"))
        while time.monotonic() < deadline:
            for kind, path in reads:
                started = time.perf_counter()
                status, _ = browser.request("GET", path)
                with lock:
                    statuses[(kind, status)] += 1
                    latencies[kind].append(time.perf_counter() - started)
                time.sleep(REVIEWER_PAUSE)

    threads = [
        threading.Thread(target=code, args=(i, token)) for i, token in enumerate(tokens)
    ] + [threading.Thread(target=review, args=(i,)) for i in range(reviewers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return time.monotonic() - started, latencies, statuses, acknowledged


def check(project, statuses: Counter, acknowledged: list[tuple[int, str]]) -> list[str]:
    """The invariants, read back from the database; a list of failures."""
    from annotator.models import Annotation

    failures = []
    server_errors = {key: n for key, n in statuses.items() if key[1] >= 500}
    if server_errors:
        failures.append(f"5xx answers: {server_errors}")
    stored = dict(
        Annotation.objects.filter(project=project).values_list(
            "assignment_id", "submission_token"
        )
    )
    acked = dict(acknowledged)
    if len(acked) != len(acknowledged):
        failures.append("an assignment was acknowledged (201) twice")
    missing = [a for a, token in acked.items() if stored.get(a) != token]
    if missing:
        failures.append(f"{len(missing)} acknowledged submits not stored")
    extra = set(stored) - set(acked)
    if extra:
        failures.append(f"{len(extra)} annotations no 201 acknowledged")
    return failures


def live_over_target(project) -> int:
    """Spans with more claimed-or-completed assignments than designed coders."""
    from django.db.models import Count

    from annotator.models import Assignment, WorkItem

    live = Counter(
        dict(
            Assignment.objects.filter(
                project=project, status__in=["claimed", "completed"]
            )
            .values_list("work_item_id")
            .annotate(n=Count("id"))
            .values_list("work_item_id", "n")
        )
    )
    targets = dict(WorkItem.objects.filter(project=project).values_list("id", "target"))
    return sum(1 for item, n in live.items() if n > targets[item])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/ops_load"
    )
    parser.add_argument("--coders", type=int, default=32)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument(
        "--instances", type=int, nargs="+", default=[1, 2], help="runs to make"
    )
    args = parser.parse_args()

    recreate_database(args.database_url)
    migrate(args.database_url)
    # Production settings serve hashed static names from collectstatic's manifest.
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input"],
        env=bench_env(args.database_url),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    setup_django(args.database_url)

    from django.contrib.auth.models import User

    from annotator.codebooks import import_codebook, read_codebook_file

    codebook, _ = import_codebook(read_codebook_file(ROOT / "fixtures/codebook.yaml"))
    users = coders(args.coders)
    reviewer, _ = User.objects.get_or_create(username=REVIEWER)
    reviewer.set_password(REVIEWER_PASSWORD)
    reviewer.save()

    failed = False
    for instances in args.instances:
        project = build(args.spans, [user for user, _ in users], reviewer, codebook)
        with ExitStack() as stack:
            ports = [
                stack.enter_context(
                    gunicorn(args.database_url, args.workers, args.threads)
                )
                for _ in range(instances)
            ]
            print(
                f"\n{instances} gunicorn instance(s) × {args.workers} workers × "
                f"{args.threads} threads on ports {ports}; {args.coders} coders, "
                f"{args.reviewers} reviewers, {args.seconds:.0f} s",
                flush=True,
            )
            elapsed, latencies, statuses, acknowledged = run(
                project,
                [token for _, token in users],
                ports,
                args.seconds,
                args.reviewers,
            )
        for kind, values in sorted(latencies.items()):
            print(format_summary(kind, latency_summary(values), elapsed))
        print(f"  statuses: {dict(sorted(statuses.items()))}")
        print(
            f"  throughput: {len(acknowledged) / elapsed:.1f} annotations/s "
            f"({len(acknowledged):,} in {elapsed:.1f} s)"
        )
        failures = check(project, statuses, acknowledged)
        over = live_over_target(project)
        if over:
            failures.append(f"{over} spans over their designed coders")
        print("  PASS" if not failures else "  FAIL: " + "; ".join(failures))
        failed = failed or bool(failures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
