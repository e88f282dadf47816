#!/usr/bin/env python3
"""Import benchmark: synthetic JSONL documents (~10 paragraphs each) into PostgreSQL.

Prints spans/second and the importing process's peak RSS for a small and a large run,
so "flat memory" is visible as two similar RSS figures. Target: ≥ 20,000 spans/s.
``--web N`` instead uploads N documents (53,500: about 199 MB) through the import page
to a running ``db_worker``: how long the request takes (it stores the upload and
returns) and the job's wall time, with the progress seen meanwhile.

    .venv/bin/python bench/import_corpus.py [--documents 100000] [--database-url URL]
    .venv/bin/python bench/import_corpus.py --web 53500 [--database-url URL]

The database named in the URL is dropped and re-created: use a scratch name.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, bench_env, migrate, paragraph, recreate_database  # noqa: E402


def write_corpus(path: Path, documents: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(documents):
            paragraphs = [paragraph(rng) for _ in range(rng.randint(8, 12))]
            record = {
                "title": f"Synthetic document {number}",
                "text": "\n\n".join(paragraphs),
                "source": rng.choice(["TASS", "RIA", "Interfax", "MID"]),
                "published": f"20{rng.randint(10, 24)}-0{rng.randint(1, 9)}",
                "language": "en",
                "batch": number // 1000,
            }
            out.write(json.dumps(record) + "\n")


def run(documents: int, url: str, workdir: Path) -> dict:
    data = workdir / f"corpus-{documents}.jsonl"
    write_corpus(data, documents)
    recreate_database(url)
    migrate(url)
    env = bench_env(url)
    code = (
        "import os, resource, time, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'annotator.settings');"
        "django.setup();"
        "from django.core.management import call_command;"
        "from corpus.models import Span;"
        "t = time.perf_counter();"
        f"call_command('import_corpus', {str(data)!r}, '--corpus', 'bench', "
        "'--no-progress');"
        "t = time.perf_counter() - t;"
        "print('RESULT', Span.objects.count(), t, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    _, spans, seconds, rss = line.split()
    return {
        "documents": documents,
        "file_mb": round(data.stat().st_size / 1e6, 1),
        "spans": int(spans),
        "seconds": round(float(seconds), 2),
        "spans_per_second": round(int(spans) / float(seconds)),
        "peak_rss_mb": int(rss),
    }


# The web import, in a Django process: a worker already polling, a manager's upload
# through the test client (the page's whole stack, without a network), then the
# job's progress read every half second until it is done.
WEB_IMPORT = """
import os, signal, subprocess, sys, time, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from annotator.demo import managers_group
from annotator.models import Job
worker = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--no-reload",
    "--no-startup-delay", "--interval", "0.2"], stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
try:
    time.sleep(3)  # the worker is polling before the upload
    user = get_user_model().objects.create_user("bench-importer")
    user.groups.add(managers_group())
    client = Client()
    client.force_login(user)
    reverse("corpus-import")  # warm: the first reverse builds the URL resolver
    with open(PATH, "rb") as upload:
        started = time.perf_counter()
        answer = client.post("/corpora/import/", {"new_corpus_name": "web bench",
            "segmentation": "paragraph", "files": upload})
        request = time.perf_counter() - started
    job = Job.objects.get()
    print("REQUEST", answer.status_code, answer["Location"], round(request, 2),
        flush=True)
    while job.is_active:
        time.sleep(0.5)
        job.refresh_from_db()
        print("SEEN", round(time.perf_counter() - started, 1), job.state, job.percent,
            job.note, flush=True)
finally:  # the worker stops even when the upload fails
    worker.send_signal(signal.SIGTERM)
    worker.wait()
print("JOB", job.state, round((job.finished_at - job.started_at).total_seconds(), 2),
    round((job.started_at - job.created_at).total_seconds(), 2),
    round(time.perf_counter() - started, 2), job.note or job.error, flush=True)
"""


def run_web(documents: int, url: str, workdir: Path) -> None:
    data = workdir / f"corpus-{documents}.jsonl"
    write_corpus(data, documents)
    recreate_database(url)
    migrate(url)
    size = data.stat().st_size / 1e6
    print(f"{documents:,} documents, {size:.1f} MB JSONL", flush=True)
    subprocess.run(
        [sys.executable, "-c", f"PATH = {str(data)!r}\n" + WEB_IMPORT],
        env=bench_env(url, TASKS_BACKEND="database", ALLOWED_HOSTS="testserver"),
        check=True,
        cwd=ROOT,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_import"
        ),
    )
    parser.add_argument("--web", type=int, metavar="DOCUMENTS", default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        if args.web:
            run_web(args.web, args.database_url, Path(workdir))
            return
        for documents in (args.documents // 10, args.documents):
            result = run(documents, args.database_url, Path(workdir))
            print(
                f"{result['documents']:>7,} documents ({result['file_mb']} MB JSONL)"
                f" -> {result['spans']:,} spans in {result['seconds']} s: "
                f"{result['spans_per_second']:,} spans/s, "
                f"peak RSS {result['peak_rss_mb']} MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
