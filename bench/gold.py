#!/usr/bin/env python3
"""Gold benchmark: refresh_gold on 1,000,000 spans (20% double-coded), PostgreSQL.

Reuses ``bench/agreement.py``'s data (its generator, in this database):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/gold_bench
    .venv/bin/python bench/gold.py

Measures, each in a fresh process (peak RSS is refresh_gold's own): the first
refresh (every gold label written), a refresh with nothing changed (the
freshness check), a refresh after one annotation changed (everything recomputed,
only changed rows written), the model rule (Dawid-Skene) added, and back to the
default rules (a settings change: every row rewritten).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agreement import (  # noqa: E402
    ensure_database,
    existing_project,
    generate,
    setup_django,
)
from bench.agreement import measure as run_in_subprocess  # noqa: E402

MEASURE = """
import os, sys, time, json, resource
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
import django
django.setup()
from django.db import connection
from annotator.gold import refresh_gold
from annotator.models import Annotation, GoldLabel, Project
project = Project.objects.get(name={name!r})
what = {what!r}
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
    from django.db import transaction
    from annotator.services import next_change
    a = Annotation.objects.filter(project=project).order_by("-id").first()
    a.comment = (a.comment or "") + "."
    with transaction.atomic():  # numbered as a submit is, so gold sees the change
        a.change = next_change(project.pk)
        a.save()
elif what == "model":
    project.gold_methods = ["unanimous", "single", "model"]
    project.save()
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t = time.perf_counter()
runs = refresh_gold(project)
out = {{"seconds": time.perf_counter() - t, "runs": len(runs),
       "gold": GoldLabel.objects.filter(project=project).count()}}
usage = resource.getrusage(resource.RUSAGE_SELF)
out["peak_rss_mb"] = usage.ru_maxrss / 1024
out["python_cpu_s"] = usage.ru_utime + usage.ru_stime - cpu0
if what == "model":
    project.gold_methods = ["unanimous", "single"]
    project.save()
print("RESULT " + json.dumps(out))
"""


def measure(what: str) -> dict:
    return run_in_subprocess(what, MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.2)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL=postgres://.../gold_bench (the benchmark is for PG)")
    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if existing_project(args.spans) is None:
        generate(args.spans, args.share)
    for what in ("first", "unchanged", "changed", "model", "back"):
        load = os.getloadavg()[0]
        r = measure(what)
        print(
            f"{what}: {r['seconds']:.2f} s, {r['runs']} runs, {r['gold']:,} gold "
            f"labels; peak RSS {r['peak_rss_mb']:.0f} MB; Python CPU "
            f"{r['python_cpu_s']:.2f} s; load {load:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
