"""export_gold: the same rows as the API's downloads, to a file or stdout."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.gold import refresh_gold
from annotator.models import GoldLabel
from tests.annotator import test_export_api as api
from tests.annotator.test_export_api import (
    NOTE,
    body,
    expected_gold,
    parse_gold,
    parse_gold_csv,
    settle_disagreements,
)

pytestmark = pytest.mark.django_db

# The export API tests' project: awkward text, two coders, a multi-choice dimension.
project = api.project
reviewer = api.reviewer


def test_csv_file_equals_the_download_and_the_database(
    client, project, reviewer, tmp_path, capsys
):
    settle_disagreements(project, reviewer)
    out = tmp_path / "gold.csv"
    call_command("export_gold", "--project", str(project.pk), "--format", "csv",
                 "-o", str(out))  # fmt: skip
    err = capsys.readouterr().err
    n = GoldLabel.objects.filter(project=project).count()
    assert f"{n:,} gold labels" in err and "100.0%" in err  # the progress bar
    client.force_login(reviewer)
    download = body(client.get(reverse("api-gold-csv", args=[project.pk])))
    text = out.read_bytes().decode("utf-8")  # keep the \r\n line ends
    assert text == download
    with out.open(newline="", encoding="utf-8") as f:
        rows = [parse_gold_csv(r) for r in csv.DictReader(f)]
    assert {(r["span_id"], r["dimension"]): r for r in rows} == expected_gold(project)
    assert any(r["note"] == NOTE for r in rows)


def test_jsonl_to_stdout_with_a_filter(project, reviewer, capsys):
    refresh_gold(project)
    call_command("export_gold", "--project", str(project.pk), "--format", "jsonl",
                 "-o", "-", "--dimension", "tags", "--no-progress")  # fmt: skip
    captured = capsys.readouterr()
    rows = [parse_gold(json.loads(line)) for line in captured.out.splitlines()]
    want = {k: v for k, v in expected_gold(project).items() if k[1] == "tags"}
    assert {(r["span_id"], r["dimension"]): r for r in rows} == want
    assert captured.err == ""


def test_bad_arguments_are_named(project):
    with pytest.raises(CommandError, match="no project with id 999999"):
        call_command("export_gold", "--project", "999999", "-o", "-")
    with pytest.raises(CommandError, match="dimension: 'colour' is not in"):
        call_command(
            "export_gold", "--project", str(project.pk), "--dimension", "colour"
        )
