"""archive_project / restore_project: a project survives the round trip row for row."""

from __future__ import annotations

import gzip
import json
import random
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from annotator.archive import TABLES
from annotator.archive.tables import NOT_ARCHIVED
from annotator.gold import adjudicate, refresh_gold
from annotator.models import (
    CheckAnswer,
    Codebook,
    GoldRun,
    Membership,
    Project,
    ReferenceItem,
    TrainingAnswer,
    TrainingAttempt,
    WorkItem,
)
from annotator.services import (
    change_design,
    claim_next_span,
    skip_span,
    submit_annotation,
)
from annotator.training.scoring import matches
from corpus.models import Corpus, Document
from tests.factories import UserFactory, make_project, make_reference_items

pytestmark = pytest.mark.django_db

USER_FIELDS = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
MODELS = [table.model for table in TABLES]


def coded_project(name_suffix: str = "") -> Project:
    """A project with every kind of row: queue, codings, a skip, a revision, gold
    from the model rule and an adjudication with its history."""
    project = make_project(
        documents=3, spans_per_document=4, coders=(f"ana{name_suffix}",)
    )
    project.gold_methods = ["unanimous", "model"]
    project.gold_min_posterior = 0.0
    project.save()
    coders = [
        UserFactory(username=f"{n}{name_suffix}") for n in ("ana", "boris", "chen")
    ]
    for user in coders[1:]:
        Membership.objects.create(project=project, user=user)
    reviewer = UserFactory(username=f"rev{name_suffix}", first_name="Rita")
    Membership.objects.create(
        project=project, user=reviewer, role=Membership.Role.REVIEWER
    )
    # A design change by a manager who is no longer a member: its author travels.
    change_design(
        project, lease_minutes=45, by=UserFactory(username=f"max{name_suffix}")
    )
    rng = random.Random(3)
    for user in coders:
        for _ in range(6):
            assignment = claim_next_span(project=project, coder=user, shown=True)
            if assignment is None:
                break
            submit_annotation(
                coder=user,
                assignment=assignment,
                labels={
                    "topic": rng.choice(["arms", "trade", "other"]),
                    "stance": rng.choice(["hostile", "neutral"]),
                    "tags": rng.sample(["quote", "number"], rng.randint(0, 2)),
                },
                comment=f"<b>{user.username}</b> ∑",
            )
    revised = claim_next_span(project=project, coder=coders[0])
    submit_annotation(
        coder=coders[0],
        assignment=revised,
        labels={"topic": "arms", "stance": "neutral"},
    )
    submit_annotation(
        coder=coders[0],
        assignment=revised,
        labels={"topic": "trade", "stance": "neutral"},
        uncertain=True,
    )
    held = claim_next_span(project=project, coder=coders[1])
    skip_span(coder=coders[1], assignment=held, reason="byline")
    claim_next_span(project=project, coder=coders[2])  # a live claim
    refresh_gold(project)
    span_id = (
        WorkItem.objects.filter(project=project).order_by("position").first().span_id
    )
    adjudicate(project, span_id, "topic", "other", reviewer=reviewer, note="first")
    adjudicate(project, span_id, "topic", "arms", reviewer=reviewer, note="second")
    adjudicate(project, span_id, "tags", ["quote"], reviewer=reviewer)
    add_training(project, coders, reviewer)
    return project


def add_training(project: Project, coders: list, reviewer) -> None:
    """Coder training's rows: reference items of each use (a check item places a
    work item in the reference pool), a practice round, a passed test, a manual
    certification, scored checks, certified memberships, a gold run's confusions."""
    ana, boris, _ = coders
    practice = make_reference_items(project, 2, ReferenceItem.Use.PRACTICE)
    tests = make_reference_items(project, 2, ReferenceItem.Use.TEST)
    checks = make_reference_items(project, 2, ReferenceItem.Use.CHECK)
    ReferenceItem.objects.filter(pk=practice[0].pk).update(
        created_by=reviewer, source=ReferenceItem.Source.GOLD
    )
    ReferenceItem.objects.filter(pk=tests[1].pk).update(retired_at=timezone.now())
    start = timezone.now() - timedelta(days=2)
    done = TrainingAttempt.objects.create(
        project=project, coder=ana, kind="practice", codebook=project.codebook,
        started_at=start, finished_at=start + timedelta(minutes=5),
    )  # fmt: skip
    answers = [
        {"topic": ["arms"], "stance": ["neutral"], "tags": []},
        {"topic": ["trade"], "stance": ["hostile"], "tags": ["quote"]},
    ]
    for order, (item, labels) in enumerate(zip(practice, answers, strict=True)):
        TrainingAnswer.objects.create(
            attempt=done, item=item, order=order, labels=labels,
            matched=matches(item.codes, labels), seconds=12.5,
            answered_at=start + timedelta(minutes=order + 1),
        )  # fmt: skip
    test = TrainingAttempt.objects.create(
        project=project, coder=ana, kind="test", codebook=project.codebook,
        finished_at=timezone.now(), passed=True,
        results={"topic": {"alpha": 0.91, "percent": 1.0, "n": 2, "level": "nominal",
                           "passed": True, "reason": ""},
                 "tags": {"alpha": None, "percent": 0.5, "n": 2, "level": "set",
                          "passed": False, "reason": "α is undefined"}},
        thresholds={"min_alpha": 0.8, "min_percent": None, "gate": "require"},
    )  # fmt: skip
    TrainingAnswer.objects.create(attempt=test, item=tests[0], order=0)  # unanswered
    TrainingAttempt.objects.create(
        project=project, coder=boris, kind="manual", codebook=project.codebook,
        finished_at=timezone.now(), passed=True, note="Trained in person.",
        decided_by=reviewer,
    )  # fmt: skip
    Membership.objects.filter(project=project, user__in=(ana, boris)).update(
        certified_at=timezone.now()
    )
    for coder, item, labels in ((ana, checks[0], answers[0]),
                                (ana, checks[1], answers[1]),
                                (boris, checks[0], answers[1])):  # fmt: skip
        matched = matches(item.codes, labels)
        CheckAnswer.objects.create(
            project=project, coder=coder, item=item, labels=labels, matched=matched,
            correct=all(matched.values()), answered_at=timezone.now(), change=7,
        )  # fmt: skip
    run = GoldRun.objects.filter(project=project).first()
    run.coder_confusion = {
        str(ana.pk): {"categories": ["arms", "trade"], "matrix": [[0.9, 0.1], [0, 1]]},
        str(boris.pk): {"categories": [], "matrix": []},
    }
    run.save(update_fields=["coder_confusion"])


def studies(model):
    """The model's rows, less a reference pool's (never archived: a restore
    builds its own pool; Project.objects already leaves pools out)."""
    rows = model.objects.order_by("pk")
    if any(f.name == "project" for f in model._meta.concrete_fields):
        rows = rows.filter(project__pool_of__isnull=True)
    return rows


def snapshot() -> dict[str, list[dict]]:
    """Every row of every archived table, ids replaced by positions (pk order) and
    users by username, so two databases with different ids compare equal."""
    User = get_user_model()
    usernames = dict(User.objects.values_list("pk", "username"))
    positions = {
        model: {
            pk: i for i, pk in enumerate(studies(model).values_list("pk", flat=True))
        }
        for model in MODELS
    }

    def user(value):
        return None if value is None else usernames[int(value)]

    out: dict[str, list[dict]] = {
        "user": sorted(
            User.objects.values(*USER_FIELDS), key=lambda row: row["username"]
        )
    }
    for model in MODELS:
        rows = []
        for obj in studies(model):
            row = {}
            for f in model._meta.concrete_fields:
                if f.primary_key:
                    continue
                value = getattr(obj, f.attname)
                if f.is_relation and f.related_model is User:
                    value = user(value)
                elif f.is_relation:
                    value = None if value is None else positions[f.related_model][value]
                elif model is WorkItem and f.attname == "document_id":
                    value = positions[Document][value]
                elif model is CheckAnswer and f.name == "change":
                    continue  # an old pool's number: a restore clears it
                elif f.name in ("coder_codes", "coder_accuracy", "coder_confusion"):
                    value = {user(k): v for k, v in value.items()}
                elif f.name in ("old", "new") and value.get("decided_by"):
                    value = {**value, "decided_by": user(value["decided_by"])}
                row[f.name] = value
            rows.append(row)
        out[model._meta.label_lower] = rows
    return out


def test_every_project_model_is_archived():
    """A model added to corpus or annotator must be added to archive.TABLES (or,
    if it is no content of the project, to NOT_ARCHIVED with the reason)."""
    ours = {
        m
        for name in ("corpus", "annotator")
        for m in apps.get_app_config(name).get_models()
    }
    missing = ours - set(MODELS) - NOT_ARCHIVED
    assert not missing, (
        "annotator/archive/tables.py TABLES lacks "
        f"{sorted(m.__name__ for m in missing)}: "
        "archive_project would silently drop their rows"
    )


# flush empties the database as a fresh one would be; PostgreSQL truncates only
# outside the test's transaction, hence transactional_db.
def test_round_trip_restores_every_row_into_an_empty_database(
    transactional_db, tmp_path
):
    project = coded_project()
    before = snapshot()
    assert all(before[m._meta.label_lower] for m in MODELS), {
        m._meta.label_lower: len(before[m._meta.label_lower]) for m in MODELS
    }
    path = tmp_path / "project.jsonl.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))

    call_command("flush", interactive=False, verbosity=0)
    assert not Project.objects.exists() and not get_user_model().objects.exists()
    call_command("restore_project", str(path), stdout=StringIO())

    after = snapshot()
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        for i, (old, new) in enumerate(zip(rows, after[table], strict=True)):
            assert new == old, f"{table} row {i}"
    restored = get_user_model().objects.get(username="rev")
    assert not restored.has_usable_password()


def test_archive_holds_one_project_and_reuses_existing_users(tmp_path):
    project = coded_project()
    other = coded_project("-b")
    path = tmp_path / "a.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    with gzip.open(path, "rt") as z:
        rows = [json.loads(line) for line in z]
    assert rows[0]["format"] == "annotator-project-archive" and rows[0]["version"] == 1
    assert rows[-1]["end"] is True
    users = {r["f"]["username"] for r in rows if r.get("t") == "user"}
    assert users == {"ana", "boris", "chen", "rev", "max"}  # max: a design change
    assert not any(other.name == r.get("f", {}).get("name") for r in rows)

    # Into a database where the users exist but the project's data does not.
    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()
    ana_pk = get_user_model().objects.get(username="ana").pk
    call_command("restore_project", str(path), stdout=StringIO())
    restored = Project.objects.get()
    assert restored.memberships.filter(user_id=ana_pk).exists()
    assert get_user_model().objects.filter(username="ana").count() == 1


def test_restore_is_all_or_nothing_and_names_the_problem(transactional_db, tmp_path):
    project = coded_project()
    path = tmp_path / "p.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    with gzip.open(path, "rt") as z:
        lines = z.read().splitlines()
    call_command("flush", interactive=False, verbosity=0)

    truncated = tmp_path / "truncated.gz"
    with gzip.open(truncated, "wt") as z:
        z.write("\n".join(lines[: len(lines) // 2]) + "\n")
    with pytest.raises(CommandError, match="truncated archive"):
        call_command("restore_project", str(truncated))

    broken = tmp_path / "broken.gz"
    bad = list(lines)
    bad[len(bad) // 2] = '{"t": "annotator.label", "id": 1, "f": {"project_id": 99'
    with gzip.open(broken, "wt") as z:
        z.write("\n".join(bad) + "\n")
    with pytest.raises(CommandError, match=rf"line {len(bad) // 2 + 1}: not JSON"):
        call_command("restore_project", str(broken))

    not_gzip = tmp_path / "plain.txt"
    not_gzip.write_text("hello")
    with pytest.raises(CommandError, match="not a complete project archive"):
        call_command("restore_project", str(not_gzip))
    for model in [*MODELS, get_user_model()]:
        assert not model.objects.exists(), model  # nothing half restored

    call_command("restore_project", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="already exists here"):
        call_command("restore_project", str(path))
    assert Project.objects.count() == 1


def test_archive_of_a_missing_project_names_it(tmp_path):
    with pytest.raises(CommandError, match="No project with id 999999"):
        call_command("archive_project", "999999", "-o", str(tmp_path / "x.gz"))
