"""Machine codes stay apart: agreement, gold and the default exports read the
same before and after coding the rest; only include_machine=1 adds them, each
marked "machine" with its probability; every machine code has its provenance."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotator.models import (
    Annotation,
    GoldLabel,
    Label,
    MachineLabel,
    Membership,
)
from annotator.services import machine_coders, set_membership
from annotator.services.machine_gold import uncoded_spans
from tests.annotator.machine_world import SMALL_MODELS, make_machine_project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_models(settings):
    settings.MACHINE_CODER_PARAMS = SMALL_MODELS


FILES = ("api-gold-csv", "api-gold-jsonl", "api-annotations-csv")


@pytest.fixture
def world(client):
    project, codes = make_machine_project()
    reviewer = UserFactory(username="rita")
    set_membership(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    client.force_login(reviewer)
    return project, codes, client


def read(client, name: str, project, **query) -> str:
    response = client.get(reverse(name, args=[project.pk]), query)
    assert response.status_code == 200, response.content
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def human_view(client, project) -> dict:
    """What the human data looks like to a reviewer and to the database."""
    agreement = json.loads(read(client, "api-project-agreement", project))
    agreement.pop("generated_at")  # when the report was made: the only change
    return {
        "agreement": agreement,
        "gold": json.loads(read(client, "api-gold", project)),
        **{name: read(client, name, project) for name in FILES},
        "rows": (
            Annotation.objects.filter(project=project).count(),
            Label.objects.filter(annotation__project=project).count(),
            sorted(
                GoldLabel.objects.filter(project=project).values_list("pk", "method")
            ),
        ),
    }


def test_predicting_changes_no_human_figure_or_default_export(world):
    project, _, client = world
    before = human_view(client, project)
    machine_coders.train(project)
    n = machine_coders.predict_rest(project)
    assert n == uncoded_spans(project).count() > 0
    assert MachineLabel.objects.filter(project=project).count() == 3 * n
    assert human_view(client, project) == before


def as_manager(client, project):
    boss = UserFactory(username="boss")
    set_membership(project=project, user=boss, role=Membership.Role.MANAGER)
    client.force_login(boss)


def test_include_machine_adds_marked_rows_only_when_asked(world):
    project, codes, client = world
    machine_coders.train(project)
    n = machine_coders.predict_rest(project)
    as_manager(client, project)  # only a manager may ask (next test)
    plain = list(csv.DictReader(io.StringIO(read(client, "api-gold-csv", project))))
    both = list(
        csv.DictReader(
            io.StringIO(read(client, "api-gold-csv", project, include_machine=1))
        )
    )
    machine = [row for row in both if row["method"] == "machine"]
    assert both[: len(plain)] == plain
    assert len(machine) == len(both) - len(plain) == 3 * n
    assert not {row["method"] for row in plain} & {"machine"}
    for row in machine:
        assert 0 <= float(row["posterior"]) <= 1
        assert row["coder_codes"] == "{}"
    topics = [r for r in machine if r["dimension"] == "topic"]
    right = sum(r["categories"] == codes[r["text"]]["topic"] for r in topics)
    assert right / len(topics) > 0.5  # the words carry the topic (3 spans in 4)
    lines = read(client, "api-gold-jsonl", project, include_machine="true")
    rows = [json.loads(line) for line in lines.splitlines()]
    assert sum(row["method"] == "machine" for row in rows) == 3 * n
    tags = [
        row for row in rows if row["method"] == "machine" and row["dimension"] == "tags"
    ]
    assert all(isinstance(row["categories"], list) for row in tags)


@pytest.mark.parametrize("name", ["api-gold-csv", "api-gold-jsonl"])
def test_only_a_manager_may_mix_machine_codes_into_the_gold(world, name):
    # Machine codes never enter the human gold unless a manager asks (issue 18).
    project, _, client = world  # signed in as a reviewer
    machine_coders.train(project)
    machine_coders.predict_rest(project)
    url = reverse(name, args=[project.pk])
    refused = client.get(url, {"include_machine": "1"})
    assert refused.status_code == 403
    assert "only the project's managers" in refused.json()["detail"]
    assert client.get(url).status_code == 200  # the human gold, as always
    as_manager(client, project)
    assert client.get(url, {"include_machine": "1"}).status_code == 200


def test_the_paged_gold_refuses_include_machine(world):
    project, _, client = world
    response = client.get(
        reverse("api-gold", args=[project.pk]), {"include_machine": "1"}
    )
    assert response.status_code == 400
    assert "include_machine" in response.json()["detail"]


def test_every_machine_code_has_its_provenance(world):
    project, _, _ = world
    machine_coders.train(project)
    machine_coders.predict_rest(project)
    labels = MachineLabel.objects.filter(project=project).select_related(
        "machine_coder"
    )
    assert labels
    for label in labels:
        provenance = label.machine_coder.provenance
        assert {"gold", "codebook", "classifier", "libraries", "date"} <= set(
            provenance
        )
        assert 0 <= label.probability <= 1


def test_predict_command_and_a_second_run_replaces(world):
    project, _, _ = world
    machine_coders.train(project)
    out = StringIO()
    call_command("predict", "--project", str(project.pk), stdout=out)
    first = MachineLabel.objects.filter(project=project).count()
    assert f"{first // 3:,} spans" in out.getvalue()
    call_command("predict", "--project", str(project.pk), stdout=StringIO())
    assert MachineLabel.objects.filter(project=project).count() == first


def test_predict_without_a_coder_is_named(world):
    from django.core.management import CommandError

    project, _, _ = world
    with pytest.raises(CommandError, match="no trained machine coder"):
        call_command("predict", "--project", str(project.pk))
