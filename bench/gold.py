#!/usr/bin/env python3
"""Gold benchmark: refresh_gold on 1,000,000 spans (20% double-coded), PostgreSQL.

Reuses ``bench/agreement.py``'s data (its generator, in this database):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gold_bench
    .venv/bin/python bench/gold.py [--steps] [--only first,queue]

Measures, each in a fresh process (peak RSS is refresh_gold's own): the first
refresh (every gold label written), a refresh with nothing changed (the
freshness check), a refresh after one annotation changed (only its span
recomputed), the model rule (Dawid-Skene) added, one annotation changed with the
model on (a full recompute), back to the default rules (a settings change: every
row rewritten), and the adjudication queue's first page (head and count, as the
page asks). The gold tables are vacuumed before each step, as autovacuum keeps
them (a full rewrite leaves a million dead rows). ``--steps`` adds each step's
seconds (reading the ratings, the reliability sample, the rules, Dawid-Skene
within them, writing, the commit with its deferred checks) and the process's
peak RSS (VmHWM) after each, and every SQL statement that took over half a
second (COPY is not among them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import vacuum_gold  # noqa: E402
from bench.agreement import (  # noqa: E402
    ensure_database,
    existing_project,
    generate,
    setup_django,
)
from bench.agreement import measure as run_in_subprocess  # noqa: E402

WHAT = ("first", "unchanged", "changed", "model", "model-changed", "back", "queue")

MEASURE = """
import os, sys, time, json, resource
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
import django
django.setup()
from django.db import connection, transaction
from annotator.gold import refresh_gold
from annotator.models import Annotation, GoldLabel, Project
what, steps_on = {what!r}.split(":")
project = Project.objects.get(name={name!r})
steps = {{}}


def hwm():
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmHWM"))
    return int(line.split()[1]) / 1024


def timed(module, name, step):
    inner = getattr(module, name)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            s = steps.setdefault(step, [0.0, 0.0])
            s[0] += time.perf_counter() - t
            s[1] = hwm()
    setattr(module, name, wrapper)


if steps_on == "1":
    import annotator.gold.refresh as refresh
    import annotator.gold_maths.chain as chain
    timed(refresh, "read_project", "read ratings")
    timed(refresh, "_sample_spans", "reliability sample")
    timed(refresh, "aggregate_dimension", "rules (all)")
    timed(chain, "fit_coded", "  of which Dawid-Skene")
    timed(refresh, "write_dimension", "write gold")
    for name in ("write_waiting", "rebuild_waiting"):
        if hasattr(refresh, name):
            timed(refresh, name, "adjudication queue table")
    slow = steps.setdefault("slow statements", [])

    def log_slow(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if (seconds := time.perf_counter() - t) > 0.5:
                slow.append([round(seconds, 2), " ".join(sql.split())[:90]])

    connection.execute_wrappers.append(log_slow)  # for the whole process


def change_one():
    from annotator.services import next_change
    a = Annotation.objects.filter(project=project).order_by("-id").first()
    a.comment = (a.comment or "") + "."
    with transaction.atomic():  # numbered as a submit is, so gold sees the change
        a.change = next_change(project.pk)
        a.save()


if what == "first":
    with connection.cursor() as c:
        c.execute("DELETE FROM annotator_goldlabelcategory WHERE gold_label_id IN "
                  "(SELECT id FROM annotator_goldlabel WHERE project_id = %s)",
                  [project.pk])
        c.execute("DELETE FROM annotator_goldlabel WHERE project_id = %s", [project.pk])
        c.execute("DELETE FROM annotator_goldrun WHERE project_id = %s", [project.pk])
    project.gold_methods = ["unanimous", "single"]
    project.save()
elif what == "changed":
    change_one()
elif what == "model":
    project.gold_methods = ["unanimous", "single", "model"]
    project.save()
elif what == "model-changed":
    project.gold_methods = ["unanimous", "single", "model"]
    project.save()
    change_one()
elif what == "back":
    project.gold_methods = ["unanimous", "single"]
    project.save()
out = {{}}
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
if what == "queue":
    from annotator.views.adjudication import QueueOptions, queue_card
    times = []
    for _ in range(3):
        t = time.perf_counter()
        card = queue_card(project, QueueOptions())
        times.append(time.perf_counter() - t)
    out.update(seconds=min(times), all=times, head=card.span_id, waiting=card.waiting)
else:
    t = time.perf_counter()
    runs = refresh_gold(project)
    out["seconds"] = time.perf_counter() - t
    if steps:
        slow = steps.pop("slow statements", [])
        named = sum(v[0] for k, v in steps.items() if not k.startswith(" "))
        steps["commit, runs and the rest"] = [out["seconds"] - named, hwm()]
        out["slow"] = slow
    out.update(runs=len(runs), gold=GoldLabel.objects.filter(project=project).count())
usage = resource.getrusage(resource.RUSAGE_SELF)
out["peak_rss_mb"] = hwm()
out["python_cpu_s"] = usage.ru_utime + usage.ru_stime - cpu0
out["steps"] = steps
print("RESULT " + json.dumps(out))
"""


def measure(what: str, steps: bool) -> dict:
    return run_in_subprocess(f"{what}:{int(steps)}", MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--steps", action="store_true", help="per-step seconds, RSS")
    parser.add_argument(
        "--only", default=",".join(WHAT), help=f"comma-separated of {','.join(WHAT)}"
    )
    args = parser.parse_args()
    chosen = args.only.split(",")
    if bad := set(chosen) - set(WHAT):
        sys.exit(f"--only: unknown {', '.join(sorted(bad))} (one of {', '.join(WHAT)})")
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL=postgres://.../gold_bench (the benchmark is for PG)")
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if existing_project(args.spans) is None:
        generate(args.spans, args.share)
    for what in chosen:
        print(vacuum_gold(os.environ["DATABASE_URL"]), flush=True)
        load = os.getloadavg()[0]
        r = measure(what, args.steps)
        if what == "queue":
            print(
                f"queue: first page {r['seconds'] * 1000:.0f} ms (runs "
                f"{', '.join(f'{t * 1000:.0f}' for t in r['all'])} ms), "
                f"{r['waiting']:,} waiting; peak RSS {r['peak_rss_mb']:.0f} MB; "
                f"load {load:.2f}",
                flush=True,
            )
            continue
        print(
            f"{what}: {r['seconds']:.2f} s, {r['runs']} runs, {r['gold']:,} gold "
            f"labels; peak RSS {r['peak_rss_mb']:.0f} MB; Python CPU "
            f"{r['python_cpu_s']:.2f} s; load {load:.2f}",
            flush=True,
        )
        for step, (seconds, rss) in r["steps"].items():
            print(f"    {step:<28} {seconds:7.2f} s   VmHWM {rss:5.0f} MB", flush=True)
        for seconds, sql in r.get("slow", []):
            print(f"      statement {seconds:6.2f} s  {sql}", flush=True)


if __name__ == "__main__":
    main()
