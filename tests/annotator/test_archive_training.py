"""The archive and coder training: reference items, attempts, checks and the pool.

test_archive's round trip compares every row of the new tables too (coded_project
adds them); here: the pool rebuilt on restore, archives written before training
existed, and hostile training JSON refused in words.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from annotator.models import (
    CheckAnswer,
    GoldRun,
    Membership,
    Project,
    ReferenceItem,
    TrainingAttempt,
    WorkItem,
)
from annotator.training.pool import pool_id
from tests.annotator.test_archive_hostile import (
    archive_lines,  # noqa: F401 (the fixture `rows` reads)
    line_of,
    refused,
    restore,
    write,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(archive_lines):  # noqa: F811
    """test_archive_hostile's: coded_project's archive (with training) as parsed
    lines, the project deleted so that it restores here."""
    return archive_lines


TRAINING_TABLES = {
    "annotator.referenceitem",
    "annotator.trainingattempt",
    "annotator.traininganswer",
    "annotator.checkanswer",
}
TRAINING_FIELDS = {
    "annotator.project": (
        "pool_of_id",
        "certification_gate",
        "certification_min_alpha",
        "certification_min_percent",
        "certification_items",
        "check_rate",
        "check_window",
        "check_min_accuracy",
    ),
    "annotator.membership": ("certified_at",),
    "annotator.goldrun": ("coder_confusion",),
}


def test_the_archive_holds_training_but_not_the_pool(rows):
    kinds = {row.get("t") for row in rows}
    assert kinds >= TRAINING_TABLES
    (project,) = [r for r in rows if r.get("t") == "annotator.project"]
    assert project["f"]["pool_of_id"] is None  # the study, not its pool
    work = [r for r in rows if r.get("t") == "annotator.workitem"]
    assert {r["f"]["project_id"] for r in work} == {project["id"]}
    # The gold refresh's model rule fills confusions too; add_training's run is
    # the one with boris's empty matrix. Its keys are usernames, not ids.
    (run,) = [
        r for r in rows if r.get("t") == "annotator.goldrun"
        and r["f"]["coder_confusion"].get("boris", {}).get("matrix") == []
    ]  # fmt: skip
    assert set(run["f"]["coder_confusion"]) == {"ana", "boris"}
    for other in rows:
        if other.get("t") == "annotator.goldrun":
            assert not any(k.isdigit() for k in other["f"]["coder_confusion"])


def test_a_restore_rebuilds_the_pool_with_a_work_item_per_check(tmp_path, rows):
    restore(write(tmp_path, rows))
    project = Project.objects.get()
    checks = ReferenceItem.objects.filter(project=project, use="check")
    pool = pool_id(project)
    assert pool is not None and checks.count() == 2
    assert sorted(WorkItem.objects.filter(project_id=pool).values_list("span_id")) == (
        sorted(checks.values_list("span_id"))
    )
    # The answers stay, with the old pool's change numbers cleared.
    answers = CheckAnswer.objects.filter(project=project)
    assert answers.count() == 3 and not answers.exclude(change=None).exists()
    certified = Membership.objects.filter(project=project, certified_at__isnull=False)
    assert set(certified.values_list("user__username", flat=True)) == {"ana", "boris"}
    manual = TrainingAttempt.objects.get(project=project, kind="manual")
    assert manual.decided_by.username == "rev"
    ana = get_user_model().objects.get(username="ana")
    boris = get_user_model().objects.get(username="boris")
    (run,) = [  # add_training's run (the model rule's runs have confusions too)
        run for run in GoldRun.objects.filter(project=project)
        if run.coder_confusion.get(str(boris.pk), {}).get("matrix") == []
    ]  # fmt: skip
    assert run.coder_confusion[str(ana.pk)]["matrix"] == [[0.9, 0.1], [0, 1]]


def test_an_archive_from_before_training_restores_with_defaults(tmp_path, rows):
    old = [r for r in rows if r.get("t") not in TRAINING_TABLES]
    for row in old:
        for field in TRAINING_FIELDS.get(row.get("t"), ()):
            del row["f"][field]
    old[-1]["counts"] = {
        k: n for k, n in old[-1]["counts"].items() if k not in TRAINING_TABLES
    }
    restore(write(tmp_path, old))
    project = Project.objects.get()
    assert project.certification_gate == Project.Gate.OFF
    assert (project.check_rate, project.check_window) == (0, 20)
    assert project.certification_min_percent is None
    assert not Membership.objects.filter(certified_at__isnull=False).exists()
    assert not GoldRun.objects.exclude(coder_confusion={}).exists()
    assert not ReferenceItem.objects.exists() and pool_id(project) is None


@pytest.mark.parametrize(
    "kind,field,value,problem",
    [
        ("annotator.referenceitem", "codes", ["arms"], "expected an object"),
        ("annotator.referenceitem", "codes", {"topic": "arms"}, "expected a list"),
        ("annotator.referenceitem", "codes", {"topic": [1]}, "expected text"),
        ("annotator.referenceitem", "use", "bonus", "is not a valid choice"),
        ("annotator.referenceitem", "created_by_id", "nobody", "not in the archive"),
        ("annotator.trainingattempt", "results", [], "expected an object"),
        ("annotator.trainingattempt", "results", {"topic": 0.9},
         "expected an object"),
        ("annotator.trainingattempt", "results", {"topic": {"alpha": "high"}},
         "alpha: expected a number"),
        ("annotator.trainingattempt", "results", {"topic": {"n": 2.5}},
         "n: expected a whole number"),
        ("annotator.trainingattempt", "results", {"topic": {"passed": "yes"}},
         "passed: expected true or false"),
        ("annotator.trainingattempt", "thresholds", {"min_alpha": "0.8"},
         "expected a number"),
        ("annotator.trainingattempt", "thresholds", {"gate": 1}, "expected text"),
        ("annotator.trainingattempt", "coder_id", "nobody", "not in the archive"),
        ("annotator.trainingattempt", "kind", "exam", "is not a valid choice"),
        ("annotator.traininganswer", "labels", "arms", "expected an object"),
        ("annotator.traininganswer", "matched", {"topic": 1},
         "expected true or false"),
        ("annotator.traininganswer", "item_id", 999_999, "not in the archive"),
        ("annotator.checkanswer", "labels", None, "got null"),
        ("annotator.checkanswer", "labels", {"topic": [None]}, "expected text"),
        ("annotator.checkanswer", "matched", ["topic"], "expected an object"),
        ("annotator.checkanswer", "matched", {"topic": None},
         "expected true or false"),
        ("annotator.goldrun", "coder_confusion", [], "expected an object"),
        ("annotator.goldrun", "coder_confusion", {"ana": {"categories": "arms"}},
         "categories: expected a list"),
        ("annotator.goldrun", "coder_confusion", {"ana": {"categories": ["a"]}},
         "expected its categories and matrix"),
        ("annotator.goldrun", "coder_confusion",
         {"ana": {"categories": ["a", "b"], "matrix": [[1, 0]]}},
         "matrix: expected 2 rows"),
        ("annotator.goldrun", "coder_confusion",
         {"ana": {"categories": ["a"], "matrix": [[1, 0]]}},
         "matrix row 1: expected 1 numbers"),
        ("annotator.goldrun", "coder_confusion",
         {"ana": {"categories": ["a"], "matrix": [["1"]]}},
         "matrix row 1: expected a number"),
        ("annotator.goldrun", "coder_confusion",
         {"nobody": {"categories": [], "matrix": []}}, "not in the archive"),
        ("annotator.project", "pool_of_id", 1, "not in the archive"),
        ("annotator.project", "certification_gate", "maybe", "not a valid choice"),
        ("annotator.project", "check_rate", "5", "expected a whole number"),
        ("annotator.membership", "certified_at", "yesterday",
         "expected a date and time"),
    ],
)  # fmt: skip
def test_each_bad_training_field_is_named_by_line_and_field(
    tmp_path, rows, kind, field, value, problem
):
    at = line_of(rows, kind)
    rows[at]["f"][field] = value
    message = refused(write(tmp_path, rows))
    assert f"line {at + 1}: {kind}.{field}: " in message, message
    assert problem in message, message


def test_a_round_taken_through_the_service_archives_and_restores(tmp_path):
    """An attempt as training.rounds writes it (its thresholds name the gate, its
    results come from the scoring) passes the archive's shape checks both ways."""
    from django.core.management import call_command

    from annotator.models import Codebook
    from annotator.training import rounds
    from tests.factories import make_project, make_reference_items

    project = make_project(documents=2, spans_per_document=4, coders=("cleo",))
    cleo = project.memberships.get().user
    make_reference_items(project, 2, ReferenceItem.Use.TEST)
    attempt = rounds.start(project=project, coder=cleo, kind="test")
    for row in rounds.served(attempt):
        rounds.answer(
            coder=cleo,
            answer_id=row.pk,
            kind="test",
            labels={"topic": "arms", "stance": "neutral"},
        )
    attempt.refresh_from_db()
    assert attempt.finished_at and attempt.thresholds["gate"] == "off"
    path = tmp_path / "rounds.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    project.delete()
    project.corpus.delete()
    Codebook.objects.all().delete()
    restore(str(path))
    restored = TrainingAttempt.objects.get(kind="test")
    assert restored.results == attempt.results
    assert restored.thresholds == attempt.thresholds


def test_an_archive_scores_the_checks_no_page_has_scored(tmp_path):
    """Check answers live in the pool, which is not archived: archiving scores
    what is pending first, so an answer nobody looked at yet is kept."""
    import gzip
    import json

    from django.core.management import call_command

    from tests.factories import answer_checks, make_project

    project = make_project(documents=2, spans_per_document=4, coders=("cleo",))
    cleo = project.memberships.get().user
    answer_checks(project, cleo, [True, False])
    assert not CheckAnswer.objects.exists()  # nothing has scored them yet
    path = tmp_path / "checks.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    with gzip.open(path, "rt") as z:
        archived = [json.loads(line) for line in z]
    answers = [r for r in archived if r.get("t") == "annotator.checkanswer"]
    assert sorted(r["f"]["correct"] for r in answers) == [False, True]
