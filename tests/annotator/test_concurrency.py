"""Many coders, many threads, many app processes, one queue: nothing goes wrong.

Each coder loops claim → submit on its own database connection until the queue has
nothing left for them. Afterwards every span must carry exactly its designed number
of codings, no coder twice, and each work item's `taken` must equal its completed
codings. Model imports stay inside functions: the process test imports this module
in fresh interpreters before Django is set up.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from urllib.parse import quote

import pytest

# The concurrency tests commit for real on several connections: PostgreSQL's row
# locks are what they test. They carry both marks below.
postgres_commits = pytest.mark.django_db(transaction=True)

LABELS = {"topic": "arms", "stance": "neutral"}
CODERS = [f"coder{n:02d}" for n in range(16)]


def code_until_done(project_id: int, username: str, barrier=None) -> int:
    """One coder's session on its own connection; the number of spans it coded."""
    from django.contrib.auth.models import User
    from django.db import connection

    from annotator.models import Project
    from annotator.services import claim_next_span, submit_annotation

    try:
        project = Project.objects.get(pk=project_id)
        coder = User.objects.get(username=username)
        limit = project.total_codings + 1  # a bound, so a bug cannot loop for ever
        if barrier is not None:
            barrier.wait(timeout=30)
        for coded in range(limit):
            assignment = claim_next_span(project=project, coder=coder)
            if assignment is None:
                return coded
            submit_annotation(
                coder=coder,
                assignment=assignment,
                labels=LABELS,
                token=uuid.uuid4().hex,
            )
        raise AssertionError(f"{username} was still given spans after {limit} codings")
    finally:
        connection.close()


def code_in_threads(project_id: int, usernames: list[str]) -> list[int]:
    """Every coder on its own thread, all released at once to collide the most."""
    barrier = threading.Barrier(len(usernames))
    with ThreadPoolExecutor(max_workers=len(usernames)) as pool:
        futures = [
            pool.submit(code_until_done, project_id, name, barrier)
            for name in usernames
        ]
        return [future.result() for future in futures]


def _start_django(database_url: str) -> None:
    """Runs first in each child process: a fresh Django on the test database."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    import django

    django.setup()


def make_busy_project(coders_per_span: int):
    from tests.factories import make_project

    return make_project(
        documents=8,
        spans_per_document=8,
        coders=CODERS,
        coders_per_span=coders_per_span,
        sample_share=0.5,
    )


def assert_coded_exactly_as_designed(project, coded_per_coder: list[int]) -> None:
    from annotator.models import Annotation, Assignment, WorkItem

    done = Assignment.objects.done().filter(project=project)
    assert sum(coded_per_coder) == done.count() == project.total_codings
    assert Annotation.objects.for_project(project).count() == project.total_codings
    assert max(Counter(done.values_list("span_id", "coder_id")).values()) == 1
    per_span = Counter(done.values_list("span_id", flat=True))
    items = WorkItem.objects.filter(project=project)
    for span_id, target, taken in items.values_list("span_id", "target", "taken"):
        assert per_span[span_id] == target == taken, (span_id, target, taken)
    assert not Assignment.objects.live().filter(project=project).exists()
    # The work was shared, not done by one lucky thread.
    assert sum(1 for coded in coded_per_coder if coded) > 1


@pytest.mark.postgres
@postgres_commits
def test_sixteen_threads_code_every_span_exactly_as_designed():
    project = make_busy_project(coders_per_span=3)
    coded = code_in_threads(project.pk, CODERS)
    assert_coded_exactly_as_designed(project, coded)


@pytest.mark.postgres
@postgres_commits
def test_four_app_processes_with_four_coders_each_stay_correct():
    from django.db import connection

    project = make_busy_project(coders_per_span=2)
    database = connection.settings_dict
    url = (
        f"postgres://{quote(database['USER'] or '')}:"
        f"{quote(database['PASSWORD'] or '')}@{database['HOST'] or 'localhost'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    groups = [CODERS[start : start + 4] for start in range(0, len(CODERS), 4)]
    with ProcessPoolExecutor(
        max_workers=len(groups),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_django,
        initargs=(url,),
    ) as pool:
        results = list(pool.map(code_in_threads, [project.pk] * len(groups), groups))
    assert_coded_exactly_as_designed(project, [n for group in results for n in group])


@pytest.mark.postgres
@postgres_commits
@pytest.mark.parametrize("other_claim_fills_it", [False, True])
def test_a_claim_waits_for_a_span_another_coder_is_claiming_at_that_instant(
    other_claim_fills_it,
):
    """SKIP LOCKED alone would answer "nothing left" while another claim holds the
    row for a few milliseconds, though the span may still have room for this coder."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from annotator.models import WorkItem
    from annotator.services import claim_next_span
    from tests.factories import make_project

    project = make_project(
        documents=1, spans_per_document=1, coders=["ann", "bob"], coders_per_span=2
    )
    item = project.work_items.get()
    locked, release = threading.Event(), threading.Event()

    def another_claim_in_flight() -> None:
        try:
            with transaction.atomic():
                WorkItem.objects.select_for_update().get(pk=item.pk)
                locked.set()
                release.wait(10)
                if other_claim_fills_it:
                    WorkItem.objects.filter(pk=item.pk).update(taken=2)
        finally:
            connection.close()

    holder = threading.Thread(target=another_claim_in_flight)
    holder.start()
    try:
        assert locked.wait(10)
        threading.Timer(0.3, release.set).start()
        claimed = claim_next_span(
            project=project, coder=User.objects.get(username="ann")
        )
    finally:
        release.set()
        holder.join(10)
    if other_claim_fills_it:
        assert claimed is None
    else:
        assert claimed is not None and claimed.span_id == item.span_id


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_claim_chosen_as_deadlock_victim_retries_its_waiting_pass(monkeypatch):
    """Two claims waiting in turn can hold rows the other wants; PostgreSQL aborts
    one. The victim rolls back only its waiting pass (a savepoint) and tries again
    instead of failing the coder's request."""
    import psycopg
    from django.contrib.auth.models import User
    from django.db import OperationalError

    from annotator import services
    from annotator.services import queue
    from tests.factories import make_project

    project = make_project(
        documents=1, spans_per_document=1, coders=["ann", "bob"], coders_per_span=2
    )
    real_take, victims = queue._take, []

    def take(pick: str, params: dict):
        if "SKIP LOCKED" in pick:
            return None  # as if another claim held every free row at that instant
        taken = real_take(pick, params)
        if taken and not victims:
            # It took the row (lock, count, assignment), then PostgreSQL picks it.
            victims.append(taken)
            try:
                raise psycopg.errors.DeadlockDetected("deadlock detected")
            except psycopg.Error as error:
                raise OperationalError(str(error)) from error
        return taken

    monkeypatch.setattr(queue, "_take", take)
    claimed = services.claim_next_span(
        project=project, coder=User.objects.get(username="ann")
    )
    assert victims and claimed is not None
    item = project.work_items.get()
    assert item.taken == 1  # the victim's first take was rolled back with its pass
    assert item.assignments.count() == 1


@pytest.mark.django_db
def test_a_lapsed_claim_comes_back_to_its_coder_as_the_same_assignment():
    """The claim's upsert path: the (project, span, coder) row exists already."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from annotator.models import Assignment, WorkItem
    from annotator.services import claim_next_span
    from tests.factories import make_project

    project = make_project(
        documents=1, spans_per_document=1, coders=["ann"], lease_minutes=5
    )
    ann = User.objects.get(username="ann")
    start = timezone.now()
    first = claim_next_span(project=project, coder=ann, now=start)
    later = start + timedelta(minutes=6)
    again = claim_next_span(project=project, coder=ann, now=later)
    assert again.pk == first.pk
    row = Assignment.objects.get(project=project)
    assert (row.status, row.claimed_at, row.expires_at, row.finished_at) == (
        Assignment.Status.CLAIMED,
        later,
        later + timedelta(minutes=5),
        None,
    )
    assert WorkItem.objects.get(project=project).taken == 1


@pytest.mark.postgres
@postgres_commits
def test_a_claim_skips_the_disk_sync_only_in_a_transaction_of_its_own():
    """A claim is a lease (asynchronous commit is fine); a caller's transaction may
    hold writes that must stay durable, so it is left alone."""
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from annotator.services import claim_next_span
    from tests.factories import make_project

    project = make_project(documents=1, spans_per_document=2, coders=["ann", "bob"])
    ann, bob = User.objects.get(username="ann"), User.objects.get(username="bob")
    with CaptureQueriesContext(connection) as captured:
        assert claim_next_span(project=project, coder=ann) is not None
    # SET LOCAL, as set_config(…, true), riding on the coder lock's round trip.
    assert any(
        "set_config('synchronous_commit', 'off', true)" in q["sql"] for q in captured
    )
    with transaction.atomic(), connection.cursor() as cursor:
        assert claim_next_span(project=project, coder=bob) is not None
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
