#!/usr/bin/env python3
"""Queue cost at scale: claim → submit latency on a 10,000-span and a 1,000,000-span
project (k = 2 on a 20 % sample), in process and over HTTP under gunicorn.

    .venv/bin/python bench/coding_loop.py [--spans 1000000] [--small 10000]
        [--coders 16] [--seconds 30] [--think 0 1] [--mode api|html]
        [--database-url URL] [--keep-database]

1. Builds both corpora with COPY (bench/_common.synthetic_corpus) and a fresh
   project on each (annotator.services.create_project, default codebook).
2. Service layer: `--coders` threads, each on its own connection, loop
   claim_next_span → submit_annotation for `--seconds`; then EXPLAIN ANALYZE of every
   query one claim runs, with buffers, to show each walks an index and reads the same
   few pages at both sizes.
3. HTTP: gunicorn on a free 127.0.0.1 port (DEBUG=0), one token-authenticated
   keep-alive session per coder doing POST claim → POST submit for `--seconds`.
   With `--think` > 0 each coder reads each span for a random time around it
   (uniform, ±50 %) and the coders start spread over one reading time: people do
   not read in step (a fixed time kept all 16 in lockstep, arriving together).
   Skipped, with a note, while the API routes are missing.
4. `--mode html` drives the coding screen instead of the API in step 3 and in the
   cost line (bench/_html_coding.py): each coder signs in through the login page,
   GETs the coding page once, then per span reads, posts the card's form as htmx
   does on Enter (form-encoded, HX-Request, X-CSRFToken, session cookie) and times
   submit → next card (a partial); an answer that is not 200 with a new card is an
   error, and every acknowledged submit is then looked up in the database.

Prints p50/p95/p99 per request type and requests/s for both sizes. Target: p50 ≤ 15 ms
and p99 ≤ 50 ms for submit-and-next, the same at 10k and 1M. The database in the URL
is dropped and re-created unless --keep-database (then the corpora are reused and
only fresh projects are made): use a scratch name. A quick check at small scale:
`--spans 5000 --small 2000 --coders 4 --seconds 20 --think 1 --skip-service`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    Timer,
    collectstatic,
    format_summary,
    latency_summary,
    migrate,
    recreate_database,
    reused_corpus,
    setup_django,
)
from _html_coding import (  # noqa: E402
    Browser,
    HtmlCoder,
    TestClientBrowser,
    give_passwords,
    unsaved,
)
from _http_round import gunicorn, http_round  # noqa: E402

SPANS_PER_DOCUMENT = 10
LABELS = {"topic": "arms_control", "stance": "neutral"}
CODER_PREFIX = "bench-coder-"


# --- set-up --------------------------------------------------------------------------


def coders(count: int) -> list[tuple[object, str]]:
    """(user, API token) for each simulated coder, made once and reused."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    result = []
    for number in range(count):
        user, _ = User.objects.get_or_create(username=f"{CODER_PREFIX}{number:02d}")
        token, _ = Token.objects.get_or_create(user=user)
        result.append((user, token.key))
    return result


def build_project(spans: int, members: list, codebook):
    """A fresh project over the `spans`-span bench corpus (made on first use)."""
    from annotator.models import Membership
    from annotator.services import create_project

    name = f"bench {spans:,} spans"
    corpus = reused_corpus(name, spans, SPANS_PER_DOCUMENT)
    with Timer() as timer:
        project = create_project(
            name=f"{name} {time.strftime('%H:%M:%S')}",
            corpus=corpus,
            codebook=codebook,
            coders_per_span=2,
            sample_share=0.2,
            members={user: Membership.Role.CODER for user in members},
        )
    print(
        f"project {project.name}: {project.work_items.count():,} work items, "
        f"{project.total_codings:,} codings, queue built in {timer.seconds:.1f} s",
        flush=True,
    )
    return project


# --- the service layer, in process ---------------------------------------------------


def service_round(project, users: list, seconds: float) -> None:
    """Each coder on its own thread and connection: claim → submit until time's up."""
    from django.db import connection

    from annotator.services import claim_next_span, submit_annotation

    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    barrier = threading.Barrier(len(users))

    def code(user) -> None:
        try:
            barrier.wait(timeout=60)
            previous_submit = None
            while time.monotonic() < deadline:
                started = time.perf_counter()
                assignment = claim_next_span(project=project, coder=user)
                claim = time.perf_counter() - started
                times["claim"].append(claim)
                if previous_submit is not None:
                    times["submit + next claim"].append(previous_submit + claim)
                if assignment is None:
                    return
                started = time.perf_counter()
                submit_annotation(
                    coder=user,
                    assignment=assignment,
                    labels=LABELS,
                    token=uuid.uuid4().hex,
                )
                previous_submit = time.perf_counter() - started
                times["submit"].append(previous_submit)
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
    print(f"  {len(users)} threads for {timer.seconds:.1f} s; errors: {len(errors)}")
    for message in errors[:5]:
        print(f"    {message}")
    for label in ("claim", "submit", "submit + next claim"):
        print(format_summary(label, latency_summary(times[label]), timer.seconds))


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them on a database in use (a
    benchmark's tables are minutes old: without this the planner guesses)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("annotator_workitem", "annotator_assignment", "corpus_span"):
            cursor.execute(f"ANALYZE {table}")


def explain_claim(project, user) -> None:
    """EXPLAIN ANALYZE each SELECT of one claim (rolled back), buffers included."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from annotator.services import claim_next_span, submit_annotation

    analyze()

    # One real coding first, so the "continue in my document" queries run too.
    assignment = claim_next_span(project=project, coder=user)
    if assignment is not None:
        submit_annotation(coder=user, assignment=assignment, labels=LABELS)
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        claim_next_span(project=project, coder=user)
        transaction.set_rollback(True)
    total_ms = 0.0
    for query in captured.captured_queries:
        sql = query["sql"]
        head = sql.lstrip().upper()
        if not head.startswith(("SELECT", "WITH")) or "annotator_" not in sql:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            transaction.set_rollback(True)
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
        nodes = list(_plan_nodes(plan["Plan"]))
        scans = sorted(
            {
                f"{node['Node Type']} {node.get('Index Name') or node['Relation Name']}"
                for node in nodes
                if "Index Name" in node or "Relation Name" in node
            }
        )
        buffers = plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get(
            "Shared Read Blocks", 0
        )
        total_ms += plan["Execution Time"]
        print(
            f"  {plan['Execution Time']:7.3f} ms {buffers:5d} buffers  "
            f"{_describe(sql):<34} {'; '.join(scans)}"
        )
    print(f"  {total_ms:7.3f} ms in all")


def _plan_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _describe(sql: str) -> str:
    """A short name for a captured query: its table and its locking."""
    found = " FROM " in sql
    table = sql.split(" FROM ", 1)[1].split()[0].strip('"()') if found else "?"
    if sql.lstrip().upper().startswith("WITH PICK"):
        table = "claim: candidates, count, insert"
    lock = ""
    if "SKIP LOCKED" in sql:
        lock = " FOR UPDATE SKIP LOCKED"
    elif "FOR UPDATE" in sql:
        lock = " FOR UPDATE"
    return f"{table}{lock}"


# --- over HTTP -----------------------------------------------------------------------


def client_cost(what: str, unit: str, step: Callable[[], None], count: int) -> None:
    """Cost of `step` (one request, or a pair), one at a time in this process: SQL
    queries and CPU time per step, the first (warm-up) not counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    step()
    backend = _backend_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        step()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    backend = _backend_cpu() - backend
    with CaptureQueriesContext(connection) as captured:
        step()
    print(
        f"  one coder, test client, {count} {what}: "
        f"{wall / count * 1000:.1f} ms wall, {cpu / count * 1000:.1f} ms CPU "
        f"(+ {backend / count * 1000:.1f} ms PostgreSQL), "
        f"{len(captured)} queries per {unit}",
        flush=True,
    )


def client_pairs(project, token: str, pairs: int) -> None:
    """Cost of one claim + submit pair over the API (Django test client, token auth,
    production settings)."""
    from django.test import Client as TestClient
    from django.test.utils import override_settings

    headers = {"Authorization": f"Token {token}"}
    claim_path = f"/api/v1/projects/{project.pk}/claim/"
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = TestClient()

        def pair() -> None:
            response = client.post(claim_path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"claim answered {response.status_code}")
            submit = client.post(
                f"/api/v1/assignments/{response.json()['assignment']}/submit/",
                {**_submit_body(), "token": uuid.uuid4().hex},
                content_type="application/json",
                headers=headers,
            )
            if submit.status_code != 201:
                raise SystemExit(f"submit answered {submit.status_code}")

        client_cost("claim + submit pairs", "pair", pair, pairs)


def html_submits(project, user, submits: int) -> None:
    """Cost of one coding-form submit as htmx sends it (signed in through the login
    page, CSRF enforced, production settings), the next card coming back."""
    from django.test.utils import override_settings

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        coder = HtmlCoder(TestClientBrowser(), project.pk, user.username, LABELS)
        coder.open()

        def submit() -> None:
            if not coder.turn(False, {}, lambda: None):
                raise SystemExit("the coding screen has nothing left to code")

        client_cost("form submits (next card back)", "submit", submit, submits)


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (Linux;
    the server is on this machine). 0 where /proc cannot tell."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api_is_there() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("api-claim", args=[1])
        reverse("api-submit", args=[1])
    except NoReverseMatch:
        return False
    return True


class Client:
    """One coder's keep-alive HTTP session with token authentication."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def post(self, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        data = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        self.connection.request("POST", path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started

    def close(self) -> None:
        self.connection.close()


class ApiCoder:
    """One coder over the JSON API: per turn POST claim → read → POST submit.
    (HtmlCoder, in _html_coding.py, is the same coder on the coding screen.)"""

    label = "HTTP"
    kinds = ("claim", "submit", "submit + next claim")  # the latencies it reports
    requests = ("claim", "submit")  # the ones counted as requests

    def __init__(self, port: int, project_id: int, token: str) -> None:
        self.client = Client(port, token)
        self.seed = token
        self.claim_path = f"/api/v1/projects/{project_id}/claim/"
        self.previous_submit: float | None = None

    def open(self) -> None:
        """Nothing to do: the token authenticates every request."""

    def turn(
        self, counting: bool, times: dict[str, list[float]], read: Callable[[], None]
    ) -> bool:
        status, payload, claim = self.client.post(self.claim_path)
        if status == 204:
            return False
        if status != 200:
            raise RuntimeError(f"claim answered {status}: {payload[:200]!r}")
        if counting:
            times["claim"].append(claim)
            if self.previous_submit is not None:
                times["submit + next claim"].append(self.previous_submit + claim)
        assignment = json.loads(payload)["assignment"]
        read()
        status, payload, submit = self.client.post(
            f"/api/v1/assignments/{assignment}/submit/",
            {**_submit_body(), "token": uuid.uuid4().hex},
        )
        if status != 201:
            raise RuntimeError(f"submit answered {status}: {payload[:200]!r}")
        self.previous_submit = submit if counting else None
        if counting:
            times["submit"].append(submit)
        return True

    def close(self) -> None:
        self.client.close()


def check_saved(project_id: int, team: list[HtmlCoder]) -> None:
    """A submit answered with a next card but not stored would look fast: every one
    must be in the database, with its form's token."""
    acknowledged = sum(len(coder.acknowledged) for coder in team)
    problems = unsaved(project_id, team)
    done = sum(coder.form is None for coder in team)
    print(
        f"  {acknowledged} submits answered with a next card (warm-up included); "
        f"not stored: {len(problems)}"
        + (f"; {done} coders ran out of spans" if done else "")
    )
    for message in problems[:5]:
        print(f"    {message}")


def _submit_body() -> dict:
    return {"labels": LABELS, "uncertain": False, "comment": ""}


# --- main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--coders", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[0.0, 1.0],
        help="mean seconds each HTTP coder reads a span before submitting (each "
        "time drawn uniformly from 0.5-1.5 times it); one round each",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument(
        "--mode",
        choices=("api", "html"),
        default="api",
        help="what the cost line and the HTTP rounds drive: the JSON API (claim → "
        "submit, token auth) or the HTML coding screen (signed-in coders posting "
        "the span card's form as htmx does, the next card coming back)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=50,
        help="test-client pairs (API) or form submits (HTML) for the cost line",
    )
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="reuse the corpora already in the database; make fresh projects",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_coding"
        ),
    )
    args = parser.parse_args()
    if not args.keep_database:
        recreate_database(args.database_url)
    migrate(args.database_url)
    html = args.mode == "html"
    if html:  # production settings serve hashed static names from the manifest
        collectstatic(args.database_url)
        # Every sign-in logs INFO lines (django-axes); keep the figures readable.
        os.environ.setdefault("LOG_LEVEL", "WARNING")
    setup_django(args.database_url)

    from annotator.codebooks import import_codebook, read_codebook_file

    codebook, _ = import_codebook(read_codebook_file(ROOT / "fixtures/codebook.yaml"))
    people = coders(args.coders + 1)
    explainer, team = people[0][0], people[1:]
    users = [user for user, _ in team]
    if html:
        give_passwords([explainer, *users])
    projects = [
        build_project(size, [explainer, *users], codebook)
        for size in (args.small, args.spans)
    ]

    analyze()
    for project in projects:
        if html:
            print(f"\nHTML cost per request, {project.name}:", flush=True)
            html_submits(project, explainer, args.pairs)
        elif api_is_there():
            print(f"\nAPI cost per request, {project.name}:", flush=True)
            client_pairs(project, people[0][1], args.pairs)
    if not args.skip_service:
        for project in projects:
            print(f"\nservice layer, {project.name}, one coder alone:", flush=True)
            service_round(project, users[:1], min(args.seconds, 10))
            print(f"service layer, {project.name}, {len(users)} coders:", flush=True)
            service_round(project, users, args.seconds)
            print("EXPLAIN ANALYZE of one claim's queries after that round:")
            explain_claim(project, explainer)

    if args.skip_http:
        return
    if not html and not api_is_there():
        print("\nHTTP: the claim/submit API routes are not there yet; skipped.")
        return
    # Statistics that count the codings so far, as autovacuum keeps them on tables
    # in use (made before any, they steer the coder's-place look-up to read all of
    # the coder's claims; see bench/RESULTS.md).
    analyze()
    with gunicorn(args.database_url, args.workers, args.threads) as port:
        for think in args.think:
            for project in projects:
                print(
                    f"\n{'HTML coding screen' if html else 'HTTP'} via gunicorn "
                    f"({args.workers} workers × {args.threads} threads), "
                    f"{project.name}, {think:g} s reading per span:",
                    flush=True,
                )
                if html:
                    coding = [
                        HtmlCoder(Browser(port), project.pk, user.username, LABELS)
                        for user in users
                    ]
                else:
                    coding = [ApiCoder(port, project.pk, key) for _, key in team]
                http_round(coding, args.seconds, args.warmup, think)
                if html:
                    check_saved(project.pk, coding)


if __name__ == "__main__":
    main()
