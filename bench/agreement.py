#!/usr/bin/env python3
"""Agreement benchmark: 1,000,000 spans, 20% double-coded, two dimensions, PostgreSQL.

Targets: the whole agreement report (every coefficient and breakdown of both
dimensions, a 1,000-resample bootstrap each) in <= 5 s and <= 500 MB peak RSS;
alpha alone (reading one dimension's labels and computing alpha) in <= 1 s.

    createdb h3bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/h3bench
    .venv/bin/python bench/agreement.py

The first run migrates the database and generates the data with COPY (a few
minutes); later runs find the project and skip generation. ``--regenerate``
deletes and rebuilds it. Each timing runs in a fresh process so peak RSS is the
report's own, and is the best of ``--repeat`` runs (every run is shown). The
load average is printed beside the figures: other work on the machine slows
PostgreSQL's scans and numpy alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROJECT = "agreement-bench-1M"
SPANS_PER_DOCUMENT = 10
CODERS = 20
TOPICS = ["arms_control", "syria", "cyber", "sanctions", "visas", "none"]
STANCES = [("hostile", -1), ("neutral", 0), ("cooperative", 1)]


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (never drops it)."""
    import psycopg

    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    import django

    django.setup()


def codebook_data() -> dict:
    return {
        "name": "Bench codebook",
        "family": "bench-agreement",
        "dimensions": [
            {
                "key": "topic",
                "label": "Topic",
                "level": "nominal",
                "categories": [
                    {"key": k, "label": k.replace("_", " ").title(), "shortcut": str(i)}
                    for i, k in enumerate(TOPICS)
                ],
            },
            {
                "key": "stance",
                "label": "Stance",
                "level": "ordinal",
                "categories": [
                    {"key": k, "label": k.title(), "value": v, "shortcut": "asd"[i]}
                    for i, (k, v) in enumerate(STANCES)
                ],
            },
        ],
    }


def existing_project(spans: int):
    from annotator.models import Annotation, Project

    project = Project.objects.filter(name=PROJECT).first()
    if project is None:
        return None
    expected = project.total_codings
    if project.work_items.count() != spans or (
        Annotation.objects.filter(project=project).count() != expected
    ):
        return None
    return project


def generate(spans: int, share: float, seed: int = 11):
    """Corpus, codebook, project and every coding, written with COPY."""
    import numpy as np
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from annotator.codebooks import import_codebook
    from annotator.models import (
        Annotation,
        Assignment,
        ChangeCounter,
        Codebook,
        Label,
        Membership,
        Project,
        WorkItem,
    )
    from corpus.bulk import insert_rows, reserve_ids
    from corpus.models import Corpus, Document, Span, content_hash

    t0 = time.perf_counter()
    old = Project.objects.filter(name=PROJECT).first()
    if old is not None:
        print("deleting the old bench project ...", flush=True)
        # Labels and annotations carry their project: two index-range deletes.
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM annotator_label WHERE project_id = %s", [old.pk]
            )
        Annotation.objects.filter(project=old).delete()
        old.delete()
    Codebook.objects.filter(family="bench-agreement", projects__isnull=True).delete()
    Corpus.objects.filter(name=PROJECT, projects__isnull=True).delete()

    rng = np.random.default_rng(seed)
    n_docs = spans // SPANS_PER_DOCUMENT
    with transaction.atomic():
        corpus = Corpus.objects.create(name=PROJECT)
        doc_ids = reserve_ids(Document, n_docs)
        now = timezone.now()
        texts = [
            "\n\n".join(f"Doc {d} para {i}." for i in range(SPANS_PER_DOCUMENT))
            for d in range(n_docs)
        ]
        insert_rows(
            Document,
            ("id", "corpus_id", "title", "source", "url", "published", "language")
            + ("text", "metadata", "content_hash", "imported_at"),
            (
                (pk, corpus.pk, f"Bench document {d}", "bench", "", "2020", "en")
                + (text, "{}", content_hash(text), now)
                for d, (pk, text) in enumerate(zip(doc_ids, texts, strict=True))
            ),
        )

        def span_rows():
            for d, pk in enumerate(doc_ids):
                start = 0
                for i in range(SPANS_PER_DOCUMENT):
                    piece = f"Doc {d} para {i}."
                    yield (pk, i, start, start + len(piece), piece, False, "")
                    start += len(piece) + 2

        insert_rows(
            Span,
            ("document_id", "index", "start", "end", "text", "excluded")
            + ("exclusion_reason",),
            span_rows(),
        )
    print(f"corpus: {n_docs:,} documents, {spans:,} spans", flush=True)
    codebook = import_codebook(codebook_data())[0]
    users = [
        User.objects.get_or_create(username=f"bench-coder-{i:02d}")[0]
        for i in range(CODERS)
    ]
    # Work items written directly (not create_project) so the set-up costs one COPY
    # and the sample is drawn here: a share of spans gets two coders, the rest one.
    project = Project.objects.create(
        name=PROJECT,
        corpus=corpus,
        codebook=codebook,
        coders_per_span=2,
        sample_share=share,
    )
    for user in users:
        Membership.objects.create(project=project, user=user, role="coder")
    span_ids = np.array(
        Span.objects.filter(document__corpus=corpus)
        .order_by("document_id", "index")
        .values_list("id", "document_id")
    )
    sampled = rng.random(len(span_ids)) < share
    insert_rows(
        WorkItem,
        ("project_id", "span_id", "document_id", "position", "target", "taken")
        + ("in_sample",),
        (
            (project.pk, int(sid), int(did), i, 2 if s else 1, 2 if s else 1, bool(s))
            for i, ((sid, did), s) in enumerate(zip(span_ids, sampled, strict=True))
        ),
    )
    project.total_codings = len(span_ids) + int(sampled.sum())
    project.save(update_fields=["total_codings"])
    print(f"project: {project.total_codings:,} codings designed", flush=True)

    items = np.array(
        WorkItem.objects.filter(project=project)
        .order_by("position")
        .values_list("id", "span_id", "target")
    )
    item_id, span_id, target = items[:, 0], items[:, 1], items[:, 2]
    n_items = len(item_id)
    # Coder pairs for double-coded spans, one coder for the rest.
    first = rng.integers(0, CODERS, n_items)
    second = (first + rng.integers(1, CODERS, n_items)) % CODERS
    double = target == 2
    a_item = np.concatenate([np.arange(n_items), np.flatnonzero(double)])
    a_coder = np.concatenate([first, second[double]])
    n_codings = len(a_item)
    user_ids = np.array([u.pk for u in users])
    # Truth per span; coders err with coder-specific rates.
    truth_topic = rng.choice(len(TOPICS), n_items, p=[0.25, 0.2, 0.15, 0.2, 0.1, 0.1])
    truth_stance = rng.choice(3, n_items, p=[0.45, 0.35, 0.2])
    error = 0.05 + 0.15 * rng.random(CODERS)
    wrong = rng.random(n_codings) < error[a_coder]
    topic = np.where(
        wrong, rng.integers(0, len(TOPICS), n_codings), truth_topic[a_item]
    )
    step = rng.choice([-1, 1], n_codings)
    stance = np.where(
        rng.random(n_codings) < error[a_coder] * 1.5,
        np.clip(truth_stance[a_item] + step, 0, 2),
        truth_stance[a_item],
    )
    # Coding spread over twelve weeks, in queue order.
    start = timezone.now() - timedelta(weeks=12)
    offsets = (a_item + rng.random(n_codings)) / n_items
    finished = [start + timedelta(weeks=12 * float(o)) for o in offsets]
    seconds = rng.gamma(2.0, 9.0, n_codings) + 2.0
    dims = {d.key: d for d in codebook.dimensions.all()}
    topic_ids = np.array(
        [dims["topic"].categories.get(key=k).pk for k in TOPICS], dtype=np.int64
    )
    stance_ids = np.array(
        [dims["stance"].categories.get(key=k).pk for k, _ in STANCES], dtype=np.int64
    )
    with transaction.atomic():
        assignment_ids = reserve_ids(Assignment, n_codings)
        lease = timedelta(minutes=30)
        insert_rows(
            Assignment,
            ("id", "project_id", "work_item_id", "span_id", "coder_id", "status")
            + ("claimed_at", "shown_at", "expires_at", "finished_at", "skip_reason"),
            (
                (aid, project.pk, int(item_id[i]), int(span_id[i]), int(user_ids[c]))
                + ("completed", f - lease / 2, f - lease / 2, f + lease, f, "")
                for aid, i, c, f in zip(
                    assignment_ids, a_item, a_coder, finished, strict=True
                )
            ),
        )
        print(f"assignments: {n_codings:,}", flush=True)
        annotation_ids = reserve_ids(Annotation, n_codings)
        insert_rows(
            Annotation,
            ("id", "assignment_id", "project_id", "codebook_id", "uncertain")
            + ("comment", "seconds", "submission_token", "created_at", "updated_at")
            + ("change",),
            (
                (an, aid, project.pk, codebook.pk, False, "", float(s), "", f, f, 1)
                for an, aid, s, f in zip(
                    annotation_ids, assignment_ids, seconds, finished, strict=True
                )
            ),
        )
        # Every coding numbered as one write (change 1), as the counter's
        # migration numbers existing annotations: gold then sees later writes.
        ChangeCounter.objects.create(project=project, n=1)
        print(f"annotations: {n_codings:,}", flush=True)
        topic_dim, stance_dim = dims["topic"].pk, dims["stance"].pk
        topic_cat, stance_cat = topic_ids[topic], stance_ids[stance]

        label_span = span_id[a_item].tolist()
        label_coder = user_ids[a_coder].tolist()

        # Both dimensions of a coding side by side, as submit_annotation writes them;
        # project, span and coder repeat the assignment's (denormalised for reads).
        def label_rows():
            p = project.pk
            for an, sp, c, t, s in zip(
                annotation_ids,
                label_span,
                label_coder,
                topic_cat,
                stance_cat,
                strict=True,
            ):
                yield (an, p, sp, c, topic_dim, int(t))
                yield (an, p, sp, c, stance_dim, int(s))

        insert_rows(
            Label,
            ("annotation_id", "project_id", "span_id", "coder_id", "dimension_id")
            + ("category_id",),
            label_rows(),
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"labels: {2 * n_codings:,}; generated in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    return project


MEASURE = r"""
import os, resource, sys, time, json
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
import django; django.setup()
from annotator.models import Project
from annotator import agreement_report as ar
from annotator.agreement import krippendorff_alpha
from annotator.ratings import label_arrays
import annotator.agreement_report.report as report_module
project = Project.objects.get(name={name!r})
dims = list(project.codebook.dimensions.all())
# Time spent reading (SQL, decoding, numpy joins) apart from the maths.
read_s = [0.0]
read_project = report_module.read_project
def timed_read(*args, **kwargs):
    started = time.perf_counter()
    try:
        return read_project(*args, **kwargs)
    finally:
        read_s[0] += time.perf_counter() - started
report_module.read_project = timed_read
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t = time.perf_counter()
if {what!r} == "alpha":
    data = label_arrays(project, dims[0])
    read_s[0] = time.perf_counter() - t
    a = krippendorff_alpha(data.unit, data.coder, data.value, level=data.level,
                           categories=tuple(range(len(data.categories))))
    out = {{"alpha": a.value, "n_units": a.n_units, "n_pairable": a.n_pairable,
           "ratings": int(len(data.unit))}}
else:
    report = ar.project_report(project, n_resamples=1000)
    out = {{d.key: {{"alpha": d.estimate.value,
                    "ci": [d.alpha.ci_low, d.alpha.ci_high],
                    "n_units": d.estimate.n_units,
                    "excluded": d.estimate.excluded_units,
                    "ratings": d.n_ratings, "documents": d.n_documents}}
           for d in report.dimensions}}
out["seconds"] = time.perf_counter() - t
out["read_s"] = read_s[0]
usage = resource.getrusage(resource.RUSAGE_SELF)
out["peak_rss_mb"] = usage.ru_maxrss / 1024
out["python_cpu_s"] = usage.ru_utime + usage.ru_stime - cpu0
print("RESULT " + json.dumps(out))
"""


def measure(what: str, template: str = MEASURE) -> dict:
    """Run ``template`` (filled with root, name and what) in a fresh Python and
    return the JSON it prints after ``RESULT `` (so peak RSS is the step's own)."""
    import json

    code = template.format(root=str(ROOT), name=PROJECT, what=what)
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL=postgres://.../h3bench (the benchmark is for PG)")
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    project = None if args.regenerate else existing_project(args.spans)
    if project is None:
        project = generate(args.spans, args.share)
    else:
        print(f"reusing {PROJECT}: {project.total_codings:,} codings", flush=True)
    for what, limit_s in (("alpha", 1.0), ("report", 5.0)):
        load = os.getloadavg()[0]
        runs = [measure(what) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        rss = max(r["peak_rss_mb"] for r in runs)
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        verdict = "ok" if best["seconds"] <= limit_s else "OVER"
        print(
            f"{what}: best {best['seconds']:.2f} s (runs {times}; target <= "
            f"{limit_s:g} s, {verdict}); peak RSS {rss:.0f} MB"
            + (" (target <= 500 MB)" if what == "report" else ""),
            flush=True,
        )
        print(
            f"  load average before: {load:.2f}, after: {os.getloadavg()[0]:.2f} "
            f"(2 cores); Python CPU of the best run {best['python_cpu_s']:.2f} s; "
            f"reading {best['read_s']:.2f} s, the rest (maths) "
            f"{best['seconds'] - best['read_s']:.2f} s",
            flush=True,
        )
        details = {k: v for k, v in best.items() if k not in ("seconds", "read_s")}
        print(f"  {details}", flush=True)


if __name__ == "__main__":
    main()
