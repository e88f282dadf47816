"""restore_project against crafted archives: bounded memory, no rights handed out,
every field checked as the admin checks it, the bad line named, nothing stored."""

from __future__ import annotations

import gzip
import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.archive import TABLES
from annotator.models import Codebook, Project
from corpus.models import Corpus
from tests.annotator.test_archive import coded_project

pytestmark = pytest.mark.django_db
HEADER = '{"format": "annotator-project-archive", "version": 1}\n'


@pytest.fixture
def archive_lines(tmp_path):
    """A real project's archive as parsed lines; the project is then deleted so
    the archive restores into this database (its users stay)."""
    project = coded_project()
    path = tmp_path / "real.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    with gzip.open(path, "rt") as z:
        rows = [json.loads(line) for line in z]
    Project.objects.all().delete()
    Codebook.objects.all().delete()
    Corpus.objects.all().delete()
    return rows


def write(tmp_path, rows, name="crafted.gz") -> str:
    path = tmp_path / name
    with gzip.open(path, "wt") as z:
        for row in rows:
            z.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return str(path)


def restore(path):
    call_command("restore_project", path, stdout=StringIO())


def nothing_stored():
    for table in TABLES:
        assert not table.model.objects.exists(), table.name


def line_of(rows, kind, **match) -> int:
    for at, row in enumerate(rows):
        if row.get("t") == kind and all(row["f"].get(k) == v for k, v in match.items()):
            return at
    raise LookupError(kind)


def rename(rows, old: str, new: str) -> None:
    """A user renamed in the archive, with every row that names them."""

    def walk(value):
        if value == old:
            return new
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    for row in rows:
        if "f" in row:
            row["f"] = walk(row["f"])


def test_a_decompression_bomb_line_is_refused_without_reading_it_whole(
    tmp_path, settings
):
    settings.ARCHIVE_MAX_LINE_BYTES = 1024 * 1024
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb") as z:
        z.write(HEADER.encode())
        z.write(b'{"t": "corpus.corpus", "id": 1, "f": {"name": "')
        for _ in range(64):  # 64 MB of one line, a few KB on disk
            z.write(b"A" * (1024 * 1024))
    assert path.stat().st_size < 200_000
    with pytest.raises(CommandError, match="line 2: longer than 1,048,576 bytes"):
        restore(str(path))
    nothing_stored()


def test_json_nested_past_the_parser_is_named(tmp_path):
    path = write(tmp_path, [HEADER.strip(), "[" * 100_000 + "]" * 100_000])
    with pytest.raises(CommandError, match="line 2: not a row this program reads"):
        restore(path)


def test_more_rows_than_the_limit_are_refused(tmp_path, settings, archive_lines):
    settings.ARCHIVE_MAX_ROWS = 10
    with pytest.raises(CommandError, match=r"line 12: more than 10 rows"):
        restore(write(tmp_path, archive_lines))
    nothing_stored()


def test_a_restore_never_creates_staff_and_never_elevates(tmp_path, archive_lines):
    User = get_user_model()
    for row in archive_lines:
        if row.get("t") == "user":
            row["f"].update(is_staff=True, is_superuser=True)
    rename(archive_lines, "rev", "mallory")  # a user the restore creates
    restore(write(tmp_path, archive_lines))
    mallory = User.objects.get(username="mallory")
    assert not mallory.is_staff and not mallory.is_superuser
    assert not mallory.groups.exists() and not mallory.has_usable_password()
    ana = User.objects.get(username="ana")  # existed: untouched
    assert not ana.is_staff and not ana.is_superuser
    assert not Group.objects.filter(user__in=[mallory, ana]).exists()
    project = Project.objects.get()
    # Memberships in the restored project keep their archived roles, nothing more.
    assert project.memberships.filter(user=mallory).exists()


@pytest.mark.parametrize(
    ("kind", "field", "value", "named"),
    [
        ("annotator.project", "gold_methods", ["unanimous", "vote"],
         "gold_methods: gold_methods entry 2, 'vote', is not a rule"),
        ("annotator.membership", "role", "overlord", "role: Value 'overlord'"),
        ("annotator.project", "coders_per_span", "many", "coders_per_span"),
        ("corpus.document", "published", "yesterday", "published"),
        ("annotator.project", "name", "x" * 201, "name: Ensure this value"),
    ],
)  # fmt: skip
def test_a_bad_field_names_line_and_field_and_stores_nothing(
    tmp_path, archive_lines, kind, field, value, named
):
    at = line_of(archive_lines, kind)
    archive_lines[at]["f"][field] = value
    with pytest.raises(CommandError) as error:
        restore(write(tmp_path, archive_lines))
    assert f"line {at + 1}: " in str(error.value) and named in str(error.value)
    nothing_stored()


def test_a_row_the_database_refuses_is_named(tmp_path, archive_lines):
    # A second membership of one user: only the database's unique index knows.
    at = line_of(archive_lines, "annotator.membership")
    archive_lines.insert(at + 1, {**archive_lines[at], "id": 999_999})
    archive_lines[-1]["counts"]["annotator.membership"] += 1
    with pytest.raises(
        CommandError, match=rf"line {at + 2}: annotator.membership: the database"
    ):
        restore(write(tmp_path, archive_lines))
    nothing_stored()


def test_a_user_with_a_bad_username_is_named(tmp_path, archive_lines):
    at = line_of(archive_lines, "user", username="rev")
    rename(archive_lines, "rev", "no spaces allowed")
    with pytest.raises(CommandError, match=rf"line {at + 1}: user 'no spaces allowed'"):
        restore(write(tmp_path, archive_lines))
    nothing_stored()
