"""Helpers shared by the benchmarks: scratch databases, Django set-up, synthetic text,
memory and latency figures.

Nothing here runs at import time and nothing imports Django models at module level,
so a benchmark can import this before it decides which database Django should use.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Benchmarks run with production settings: DEBUG off (no query log growing in memory).
BENCH_SECRET_KEY = "bench-" + "x" * 44

WORDS = tuple(
    "the united states russia sanctions treaty cooperation dialogue embassy diplomats "
    "strategic stability cyber security syria de-escalation zone visas consulate "
    "pressure relations president minister agreement nuclear talks response"
    " parity".split()
)


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))


# --- databases and Django ------------------------------------------------------------


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name:
        raise SystemExit(f"the database URL {url!r} names no database")
    return name


def recreate_database(url: str) -> None:
    """Drop and create the database the URL names: benchmarks use scratch databases."""
    import psycopg

    name = database_name(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def bench_env(url: str, **extra: str) -> dict[str, str]:
    """The environment a benchmark's Django (in or out of process) runs with."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        # gunicorn on loopback speaks plain HTTP: no redirect to HTTPS, plain cookies
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "REQUEST_LOG_LEVEL": "WARNING",
        **extra,
    }


def migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env=bench_env(url),
        check=True,
        cwd=ROOT,
    )


def collectstatic(url: str) -> None:
    """Production settings serve hashed static names from collectstatic's manifest:
    needed before a benchmark renders pages (not for JSON)."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--no-input"],
        env=bench_env(url),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def setup_django(url: str) -> None:
    """Django in this process, on the benchmark database, with production settings."""
    os.environ.update(bench_env(url))
    import django

    django.setup()


GOLD_TABLES = (
    "annotator_goldlabel",
    "annotator_goldlabelcategory",
    "annotator_goldwaiting",
)


def vacuum_gold(url: str) -> str:
    """VACUUM (ANALYZE) the gold tables, as autovacuum would keep them between
    refreshes; returns their size in words.

    A full refresh rewrites every automatic label, leaving as many dead rows.
    With autovacuum off (as on some benchmark machines) they pile up run after
    run and each refresh walks a larger table, so a benchmark that measured
    without this would time the bloat, not the refresh.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for table in GOLD_TABLES:
            connection.execute(f"VACUUM (ANALYZE) {table}")
        size = connection.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(t::regclass))) "
            "FROM unnest(%s::text[]) AS t",
            [list(GOLD_TABLES)],
        ).fetchone()[0]
    return f"gold tables vacuumed: {size}"


# --- figures -------------------------------------------------------------------------


def peak_rss_mb() -> int:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def status_kb(pid: int, field: str) -> int:
    """A field of another process's /proc status in KiB (VmHWM: its peak RSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(share * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(seconds: Iterable[float]) -> dict[str, float]:
    """Count, p50/p95/p99 and max in milliseconds."""
    values = sorted(seconds)
    return {
        "n": len(values),
        "p50": percentile(values, 0.50) * 1000,
        "p95": percentile(values, 0.95) * 1000,
        "p99": percentile(values, 0.99) * 1000,
        "max": (values[-1] * 1000) if values else float("nan"),
    }


def format_summary(label: str, summary: dict[str, float], elapsed: float) -> str:
    rate = summary["n"] / elapsed if elapsed else float("nan")
    return (
        f"  {label:<22} n={summary['n']:>6}  p50 {summary['p50']:6.1f} ms  "
        f"p95 {summary['p95']:6.1f} ms  p99 {summary['p99']:6.1f} ms  "
        f"max {summary['max']:7.1f} ms  {rate:7.1f}/s"
    )


class Timer:
    """with Timer() as t: ...; t.seconds"""

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


# --- a synthetic corpus straight into the database -----------------------------------


def reused_corpus(name: str, spans: int, spans_per_document: int):
    """The synthetic corpus called `name`, written on first use and reused after."""
    from corpus.models import Corpus

    corpus = Corpus.objects.filter(name=name).first()
    if corpus is None:
        with Timer() as timer:
            corpus = synthetic_corpus(
                name=name,
                documents=max(1, spans // spans_per_document),
                spans_per_document=spans_per_document,
            )
        print(f"corpus {name}: written in {timer.seconds:.1f} s", flush=True)
    return corpus


def synthetic_corpus(
    *, name: str, documents: int, spans_per_document: int, seed: int = 7
):
    """A corpus of `documents` × `spans_per_document` one-sentence paragraphs, written
    with COPY (corpus.bulk), bypassing file parsing: a million spans in about a
    minute. Offsets are computed as the text is built, so every span satisfies
    document.text[start:end] == span.text like an imported one.
    """
    from django.db import transaction
    from django.utils import timezone

    from corpus.bulk import checks_as_you_go, copy_rows, reserve_ids
    from corpus.importing import DOCUMENT_COLUMNS, SPAN_COLUMNS
    from corpus.models import Corpus, Document, Span, content_hash

    rng = random.Random(seed)
    chunk = 5_000
    now = timezone.now()
    with transaction.atomic(), checks_as_you_go(Span):
        corpus = Corpus.objects.create(name=name)
        for first in range(0, documents, chunk):
            ids = reserve_ids(Document, min(chunk, documents - first))
            document_rows, span_rows = [], []
            for pk in ids:
                pieces = [f"Document {pk} opens."] + [
                    sentence(rng, 6, 14) for _ in range(spans_per_document - 1)
                ]
                text = "\n\n".join(pieces)
                document_rows.append(
                    (pk, corpus.pk, f"Synthetic document {pk}",
                     rng.choice(("TASS", "RIA", "MID")), "",
                     f"20{rng.randint(10, 24)}", "en", text, "{}",
                     content_hash(text), now)
                )  # fmt: skip
                start = 0
                for index, piece in enumerate(pieces):
                    end = start + len(piece)
                    span_rows.append((pk, index, start, end, piece, False, ""))
                    start = end + 2
            copy_rows(Document, DOCUMENT_COLUMNS, document_rows)
            copy_rows(Span, SPAN_COLUMNS, span_rows)
    return corpus
