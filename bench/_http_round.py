"""Simulated coders against gunicorn, for bench/coding_loop.py (either mode).

`gunicorn()` serves the project on a free loopback port; `http_round()` runs one
thread per coder object for a fixed time and prints latency percentiles. A coder
object (coding_loop.ApiCoder, _html_coding.HtmlCoder) has `open()` (sign in,
untimed), `turn(counting, times, read)` (one span: returns False when nothing is
left, appends its latencies to `times` while `counting`, calls `read()` where the
person reads), `close()`, a `seed` for its reading times, a `label`, the latency
`kinds` it reports and which of them are `requests`.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import ROOT, bench_env, format_summary, latency_summary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(url: str, workers: int, threads: int) -> Iterator[int]:
    """gunicorn on a free loopback port; stopped (the whole group) however we leave."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "annotator.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        # Coders read for seconds between requests: gunicorn's default (2 s) closed
        # their idle connections under them (broken pipes from 3 s of reading on).
        "--keep-alive",
        "75",
    ]
    server = subprocess.Popen(
        command,
        env=bench_env(url, ALLOWED_HOSTS="127.0.0.1"),
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise SystemExit(f"gunicorn exited with {server.returncode}")
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


def http_round(team: list, seconds: float, warmup: float, think: float) -> None:
    """Every coder (ApiCoder or HtmlCoder, one thread each) signs in, untimed, then
    takes turns until time's up, reading each span for about `think` s; the first
    `warmup` seconds are not counted. With think = 0 the coders are a closed loop
    that saturates the machine; a real coder reads a span for several seconds."""
    times: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    counts = defaultdict(int)
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def start_clock() -> None:  # once every coder is signed in
        clock["counted_from"] = time.monotonic() + warmup
        clock["deadline"] = clock["counted_from"] + seconds

    barrier = threading.Barrier(len(team), action=start_clock)

    def code(coder) -> None:
        local: dict[str, list[float]] = defaultdict(list)
        reading = random.Random(coder.seed)

        def read() -> None:
            if think:
                time.sleep(think * reading.uniform(0.5, 1.5))

        try:
            try:
                coder.open()
            finally:
                barrier.wait(timeout=300)
            counted_from, deadline = clock["counted_from"], clock["deadline"]
            if think:
                time.sleep(reading.uniform(0, think))
            while (now := time.monotonic()) < deadline:
                if not coder.turn(now >= counted_from, local, read):
                    return
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            coder.close()
            with lock:
                for label, values in local.items():
                    times[label].extend(values)
                    counts[label] += len(values)

    threads = [threading.Thread(target=code, args=(coder,)) for coder in team]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not clock:
        print(f"  the coders could not start; errors: {len(errors)}")
        for message in errors[:5]:
            print(f"    {message}")
        return
    elapsed = min(time.monotonic(), clock["deadline"]) - clock["counted_from"]
    kind = team[0]
    print(
        f"  {len(team)} {kind.label} coders for {elapsed:.1f} s; errors: {len(errors)}"
    )
    for message in errors[:5]:
        print(f"    {message}")
    for label in kind.kinds:
        print(format_summary(label, latency_summary(times[label]), elapsed))
    requests = sum(counts[label] for label in kind.requests)
    print(f"  {requests / elapsed:.1f} requests/s")
