#!/usr/bin/env python3
"""Export benchmark: gold labels of 1,000,000 spans, downloaded through gunicorn.

Targets (issue 5): gold CSV and JSONL downloads <= 20 s each with the server's peak
RSS <= 200 MB, first byte <= 1 s, and one 1,000-row API page <= 150 ms.

    .venv/bin/python bench/export.py \
        --database-url postgres://postgres@127.0.0.1:5432/export_bench

The first run creates and migrates the database and writes the data with COPY:
a corpus of 100,000 documents x 10 one-sentence spans (bench/_common.py), a project
whose codebook has a single-choice `topic` and a multi-choice `tags` dimension, and
a gold label for every span on both (2,000,000 rows, with provenance spread over
the methods as a real project's would be). Later runs reuse it; `--regenerate`
rebuilds it. gunicorn then serves the app on a free loopback port with production
settings (DEBUG off, as `dev.py serve`), and the benchmark downloads each file once
per `--repeat`, reading the workers' peak RSS (VmHWM) from /proc, and fetches API
pages from the start and from deep in the keyset.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    latency_summary,
    migrate,
    setup_django,
    status_kb,
    synthetic_corpus,
)
from _http_round import gunicorn  # noqa: E402
from agreement import ensure_database  # noqa: E402

PROJECT = "export-bench"
SPANS_PER_DOCUMENT = 10
CODERS = 12
TOPICS = ["arms_control", "syria", "cyber", "sanctions", "visas", "none"]
TAGS = ["quote", "number", "threat", "history"]


def codebook_data() -> dict:
    return {
        "name": "Export bench codebook",
        "family": "bench-export",
        "dimensions": [
            {
                "key": "topic",
                "label": "Topic",
                "categories": [
                    {"key": k, "label": k.replace("_", " ").title(), "shortcut": str(i)}
                    for i, k in enumerate(TOPICS)
                ],
            },
            {
                "key": "tags",
                "label": "Tags",
                "multiple": True,
                "required": False,
                "categories": [
                    {"key": k, "label": k.title(), "shortcut": "qwer"[i]}
                    for i, k in enumerate(TAGS)
                ],
            },
        ],
    }


def existing_project(spans: int):
    from annotator.models import GoldLabel, Project

    project = Project.objects.filter(name=PROJECT).first()
    if project is None:
        return None
    if GoldLabel.objects.filter(project=project).count() != 2 * spans:
        return None
    return project


def generate(spans: int, seed: int = 5):
    """Corpus, codebook, project, users and 2 gold labels per span, with COPY."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from annotator.codebooks import import_codebook
    from annotator.models import (
        GoldLabel,
        GoldLabelCategory,
        GoldRun,
        Membership,
        Project,
    )
    from corpus.bulk import copy_rows, reserve_ids
    from corpus.models import Corpus, Span

    t0 = time.perf_counter()
    old = Project.objects.filter(name=PROJECT).first()
    if old is not None:
        print("deleting the old bench project ...", flush=True)
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM annotator_goldlabelcategory WHERE gold_label_id IN "
                "(SELECT id FROM annotator_goldlabel WHERE project_id = %s)",
                [old.pk],
            )
            cursor.execute(
                "DELETE FROM annotator_goldlabel WHERE project_id = %s", [old.pk]
            )
        GoldRun.objects.filter(project=old).delete()
        old.delete()
    Corpus.objects.filter(name=PROJECT).delete()
    corpus = synthetic_corpus(
        name=PROJECT,
        documents=spans // SPANS_PER_DOCUMENT,
        spans_per_document=SPANS_PER_DOCUMENT,
    )
    print(f"corpus: {spans:,} spans in {time.perf_counter() - t0:.0f} s", flush=True)
    codebook = import_codebook(codebook_data())[0]
    coders = [
        User.objects.get_or_create(username=f"bench-coder-{i:02d}")[0]
        for i in range(CODERS)
    ]
    reviewer = User.objects.get_or_create(username="bench-reviewer")[0]
    project = Project.objects.create(
        name=PROJECT, corpus=corpus, codebook=codebook, sample_share=0.2
    )
    for user in coders:
        Membership.objects.create(project=project, user=user, role="coder")
    Membership.objects.create(project=project, user=reviewer, role="reviewer")
    dims = {d.key: d for d in codebook.dimensions.all()}
    cats = {
        key: {c.key: c.pk for c in dims[key].categories.all()}
        for key in ("topic", "tags")
    }
    rng = random.Random(seed)
    now = timezone.now()
    span_ids = list(
        Span.objects.filter(document__corpus=corpus)
        .order_by("id")
        .values_list("id", flat=True)
    )
    coder_ids = [u.pk for u in coders]
    with transaction.atomic():
        # Runs as refresh_gold leaves them: the project's own rules, and a
        # watermark equal to the newest annotation change (none here), so the
        # freshness check each export makes finds nothing to recompute.
        runs = {
            key: GoldRun.objects.create(
                project=project,
                dimension=dims[key],
                methods=list(project.gold_methods),
                min_share=project.gold_min_share,
                min_posterior=project.gold_min_posterior,
                watermark=None,
                n_decided=len(span_ids),
            )
            for key in ("topic", "tags")
        }
        gold_ids = reserve_ids(GoldLabel, 2 * len(span_ids))
        category_rows: list[tuple[int, int]] = []

        def gold_rows():
            ids = iter(gold_ids)
            for span_id in span_ids:
                double = rng.random() < 0.2
                raters = rng.sample(coder_ids, 2 if double else 1)
                for key in ("topic", "tags"):
                    pk = next(ids)
                    if key == "topic":
                        gold = [rng.choice(TOPICS)]
                    else:
                        gold = sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2))))
                    codes = {str(c): gold for c in raters}
                    method, posterior, by, note = "single", None, None, ""
                    agreement = 1.0
                    if double:
                        roll = rng.random()
                        if roll < 0.75:
                            method = "unanimous"
                        elif roll < 0.95:
                            method, posterior = "model", round(rng.uniform(0.9, 1), 4)
                            codes[str(raters[1])] = [rng.choice(TOPICS)]
                            agreement = 0.5
                        else:
                            method, by = "adjudicated", reviewer.pk
                            note = (
                                "Settled: the \"quote\" is the minister's, not TASS'."
                            )
                            codes[str(raters[1])] = []
                            agreement = 0.5
                    if key == "topic":
                        category = cats["topic"][gold[0]]
                    else:
                        category = None
                        category_rows.extend((pk, cats["tags"][t]) for t in gold)
                    yield (
                        pk, project.pk, span_id, dims[key].pk, category, method,
                        runs[key].pk, by, now, note, posterior, codebook.pk,
                        len(raters), json.dumps(codes), agreement, now,
                    )  # fmt: skip

        copy_rows(
            GoldLabel,
            ("id", "project_id", "span_id", "dimension_id", "category_id", "method")
            + ("run_id", "decided_by_id", "decided_at", "note", "posterior")
            + ("codebook_id", "n_ratings", "coder_codes", "agreement", "updated_at"),
            gold_rows(),
        )
        copy_rows(GoldLabelCategory, ("gold_label_id", "category_id"), category_rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"gold: {len(gold_ids):,} labels, {len(category_rows):,} multi-choice "
        f"categories; generated in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return project


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (its workers), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (after the parenthesised command, which may hold spaces) is the ppid.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            pids.append(int(entry.name))
    return pids


def download(port: int, path: str, token: str) -> dict:
    """One GET read to the end in 64 KiB pieces: first byte, total time, size."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = connection.getresponse()
    first = None
    size = lines = 0
    while piece := response.read1(65536):
        if first is None:
            first = time.perf_counter() - started
        size += len(piece)
        lines += piece.count(b"\n")
    total = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}")
    return {"status": response.status, "first_byte_s": first, "seconds": total,
            "mb": size / 1e6, "lines": lines}  # fmt: skip


def api_pages(port: int, project_id: int, token: str, pages: int) -> dict:
    """`pages` consecutive 1,000-row pages (following `next`), timed each."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    path = f"/api/v1/projects/{project_id}/gold/?page_size=1000"
    times, rows = [], 0
    for _ in range(pages):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        times.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:200]}")
        data = json.loads(body)
        rows += len(data["results"])
        if not data["next"]:
            break
        path = data["next"].split(f":{port}", 1)[-1]
    connection.close()
    return {**latency_summary(times), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/export_bench"
        ),
    )
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    url = args.database_url
    if not url.startswith("postgres"):
        sys.exit("the export benchmark is for PostgreSQL: --database-url postgres://…")
    ensure_database(url)
    migrate(url)
    setup_django(url)
    project = None if args.regenerate else existing_project(args.spans)
    if project is None:
        project = generate(args.spans)
    else:
        print(f"reusing {PROJECT}: {2 * args.spans:,} gold labels", flush=True)
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    try:
        from annotator.gold import refresh_gold
    except ImportError:
        refresh_gold = None
    if refresh_gold is not None:
        started = time.perf_counter()
        refresh_gold(project)
        print(
            f"refresh_gold with nothing changed: {time.perf_counter() - started:.2f} s",
            flush=True,
        )
    if args.generate_only:
        return
    token = Token.objects.get_or_create(
        user=User.objects.get(username="bench-reviewer")
    )[0].key
    base = f"/api/v1/projects/{project.pk}"
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), "
        f"DEBUG off; load average {os.getloadavg()[0]:.2f} (2 cores)",
        flush=True,
    )
    with gunicorn(url, args.workers, args.threads) as port:
        for name in ("gold.csv", "gold.jsonl"):
            for _ in range(args.repeat):
                load = os.getloadavg()[0]
                result = download(port, f"{base}/{name}", token)
                verdict = (
                    "ok"
                    if result["seconds"] <= 20 and result["first_byte_s"] <= 1
                    else "OVER"
                )
                print(
                    f"{name}: {result['seconds']:.1f} s for {result['lines']:,} lines "
                    f"({result['mb']:.0f} MB), first byte {result['first_byte_s']:.3f}"
                    f" s [targets 20 s, 1 s: {verdict}]; load {load:.2f}",
                    flush=True,
                )
        for label, pages in (("first page", 1), ("consecutive pages", args.pages)):
            summary = api_pages(port, project.pk, token, pages)
            print(
                f"API {label} (1,000 rows): p50 {summary['p50']:.0f} ms, "
                f"max {summary['max']:.0f} ms over {summary['n']} pages "
                f"[target 150 ms]",
                flush=True,
            )
        rss = peak_worker_rss(port)
        print(
            f"server peak RSS (VmHWM) per worker: {rss} MB [target 200 MB]", flush=True
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}", flush=True)


def peak_worker_rss(port: int) -> list[int]:
    """Peak RSS of every gunicorn worker (a child of the master listening on port)."""
    masters = [
        pid
        for pid in worker_pids(os.getpid())
        if "gunicorn"
        in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore")
    ]
    workers = [pid for master in masters for pid in worker_pids(master)]
    return sorted(status_kb(pid, "VmHWM") // 1024 for pid in workers)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
