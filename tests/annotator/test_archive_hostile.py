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


def row_counts() -> dict[str, int]:
    """Rows of every archived table and of users: a refusal changes none."""
    counts = {t.name: t.model.objects.count() for t in TABLES}
    return {**counts, "user": get_user_model().objects.count()}


def refused(path, *args) -> str:
    """Restore, expect a refusal, check nothing was stored; the message."""
    before = row_counts()
    with pytest.raises(CommandError) as error:
        call_command("restore_project", path, *args, stdout=StringIO())
    assert row_counts() == before
    return str(error.value)


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
        if isinstance(value, dict):  # coder_accuracy is keyed by username
            return {walk(k): walk(v) for k, v in value.items()}
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
    with pytest.raises(CommandError, match="line 2: nested deeper than 32 levels"):
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


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("kind", "field", "value", "problem"),
    [
        # Types: what the admin's form would refuse, not coerced into something else.
        ("corpus.document", "title", {"a": 1}, "expected text"),
        ("corpus.document", "title", 5, "expected text"),
        ("corpus.document", "colour", "red", "not a field of this table"),
        ("annotator.project", "seed", 12.5, "expected a whole number"),
        ("annotator.project", "coders_per_span", True, "expected a whole number"),
        ("annotator.project", "seed", "7", "expected a whole number"),
        ("annotator.dimension", "multiple", "yes", "expected true or false"),
        ("annotator.dimension", "multiple", None, "expected true or false"),
        ("annotator.assignment", "claimed_at", 5, "expected a date and time"),
        ("annotator.assignment", "claimed_at", "soon", "expected a date and time"),
        # Numbers a database stores differently, or not at all.
        ("annotator.annotation", "seconds", NAN, "not a finite number"),
        ("annotator.category", "value", INF, "not a finite number"),
        ("annotator.project", "sample_share", NAN, "not a finite number"),
        ("annotator.project", "gold_min_share", "0.5", "expected a number"),
        # JSON of the wrong shape breaks pages later: refused now.
        ("annotator.goldrun", "methods", ["vote"], "entry 1, 'vote', is not a rule"),
        ("annotator.project", "gold_methods", "unanimous", "must be a list of rules"),
        ("annotator.project", "gold_methods", ["model", "model"], "listed twice"),
        ("annotator.goldlabel", "coder_codes", ["x"], "expected an object"),
        ("annotator.goldrun", "coder_accuracy", {"ana": "high"}, "expected a number"),
        ("corpus.document", "metadata", [1, 2], "expected an object"),
        ("corpus.document", "metadata", {"k": NAN}, "not a finite number"),
        ("annotator.category", "examples", "an example", "expected a list"),
        ("annotator.category", "typical_words", [1], "expected text"),
        ("annotator.designchange", "before", [], "expected an object"),
        ("annotator.goldlabelrevision", "new", {"decided_by": [1]},
         "expected a username"),
        # Text no database stores (corpus/text.py's rule).
        ("corpus.document", "title", "a\x00b", "contains a NUL character"),
        ("annotator.annotation", "comment", "a\ud800", "unpaired surrogate"),
        ("corpus.document", "metadata", {"k": "\x00"}, "contains a NUL character"),
        ("corpus.document", "metadata", {"\ud800": 1}, "unpaired surrogate"),
        # Offsets and references.
        ("corpus.span", "end", 10**6, "outside the document"),
        ("corpus.span", "start", -1, "greater than or equal to 0"),
        ("annotator.label", "category_id", 999_999, "not in the archive"),
        ("annotator.label", "category_id", "1", "expected a row id"),
        ("annotator.workitem", "document_id", 999_999, "not in the archive"),
        ("annotator.label", "coder_id", "nobody", "not in the archive"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named_by_line_and_field(
    tmp_path, archive_lines, kind, field, value, problem
):
    at = line_of(archive_lines, kind)
    archive_lines[at]["f"][field] = value
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 1}: {kind}.{field}: " in message, message
    assert problem in message, message


def other(rows, kind, row_field, value):
    """The id of a `kind` row whose `row_field` is not `value`."""
    for row in rows:
        if row.get("t") == kind and row["f"][row_field] != value:
            return row["id"]
    raise LookupError(kind)


def test_a_label_whose_category_is_of_another_dimension_is_refused(
    tmp_path, archive_lines
):
    at = line_of(archive_lines, "annotator.label")
    label = archive_lines[at]["f"]
    category = next(
        r for r in archive_lines if r.get("id") == label["category_id"]
        and r.get("t") == "annotator.category"
    )
    label["category_id"] = other(
        archive_lines, "annotator.category", "dimension_id",
        category["f"]["dimension_id"],
    )
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 1}: annotator.label.category_id: " in message, message
    assert "dimension" in message


@pytest.mark.parametrize(
    ("kind", "field", "of"),
    [
        ("annotator.label", "coder_id", "username"),
        ("annotator.label", "span_id", "corpus.span"),
        ("annotator.workitem", "document_id", "corpus.document"),
        ("annotator.assignment", "span_id", "corpus.span"),
    ],
)
def test_a_row_that_contradicts_the_row_it_belongs_to_is_refused(
    tmp_path, archive_lines, kind, field, of
):
    """A label's span and coder are its assignment's, a work item's document is its
    span's: an archive saying otherwise would split one coding across two spans."""
    at = line_of(archive_lines, kind)
    row = archive_lines[at]["f"]
    if of == "username":
        row[field] = "chen" if row[field] != "chen" else "boris"
    else:
        row[field] = next(
            r["id"] for r in archive_lines if r.get("t") == of and r["id"] != row[field]
        )
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 1}: {kind}.{field}: " in message, message


def test_a_duplicated_id_is_refused(tmp_path, archive_lines):
    """Two spans under one id would point every later reference at the second."""
    at = line_of(archive_lines, "corpus.span")
    copy = json.loads(json.dumps(archive_lines[at]))
    copy["f"]["index"] = 999
    archive_lines.insert(at + 1, copy)
    archive_lines[-1]["counts"]["corpus.span"] += 1
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 2}: corpus.span.id: " in message, message


def test_a_second_project_is_refused_at_its_line(tmp_path, archive_lines):
    at = line_of(archive_lines, "annotator.project")
    copy = json.loads(json.dumps(archive_lines[at]))
    copy["id"] += 1000
    archive_lines.insert(at + 1, copy)
    archive_lines[-1]["counts"]["annotator.project"] += 1
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 2}: annotator.project: " in message, message


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"t": ["corpus.corpus"], "id": 1, "f": {}}, "unknown table"),
        ({"t": "corpus.corpus", "id": True, "f": {}}, "id: expected a row id"),
        ({"t": "annotator.codebook", "id": 1, "f": {"family": "f", "version": "x"}},
         "annotator.codebook.version: expected a whole number"),
        ({"t": "corpus.corpus", "id": 1, "f": {"name": ["x"]}},
         "corpus.corpus.name: expected text"),
        ({"end": True, "counts": ["x"]}, "end marker"),
    ],
)  # fmt: skip
def test_a_malformed_row_gives_a_message_not_a_traceback(tmp_path, row, problem):
    message = refused(write(tmp_path, [HEADER.strip(), row]))
    assert "line 2: " in message and problem in message, message


def make_manager(rows, username):
    at = next(
        i for i, r in enumerate(rows)
        if r.get("t") == "annotator.membership" and r["f"]["user_id"] == username
    )
    rows[at]["f"]["role"] = "manager"
    return at


def test_an_existing_account_is_made_manager_only_when_asked(tmp_path, archive_lines):
    User = get_user_model()
    at = make_manager(archive_lines, "ana")  # ana exists in this database
    path = write(tmp_path, archive_lines)
    message = refused(path)
    assert f"line {at + 1}: annotator.membership.role: " in message, message
    assert "--allow-managers" in message

    call_command("restore_project", path, "--allow-managers", stdout=StringIO())
    ana = User.objects.get(username="ana")
    assert Project.objects.get().role_of(ana) == "manager"
    assert not ana.is_staff and not ana.is_superuser


def test_an_account_the_restore_creates_may_be_manager(tmp_path, archive_lines):
    """A new account has no password and no other rights: managing the restored
    project is what the archive says it did."""
    rename(archive_lines, "ana", "newcomer")
    make_manager(archive_lines, "newcomer")
    restore(write(tmp_path, archive_lines))
    newcomer = get_user_model().objects.get(username="newcomer")
    assert Project.objects.get().role_of(newcomer) == "manager"
    assert not newcomer.is_staff and not newcomer.has_usable_password()


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("first_name", "Ri\x00ta", "contains a NUL character"),
        ("is_active", "yes", "expected true or false"),
        ("date_joined", "2026-01-01", "expected a date and time"),
        ("username", None, "expected text, got null"),
    ],
)
def test_a_user_row_is_checked_like_any_row(
    tmp_path, archive_lines, field, value, problem
):
    at = line_of(archive_lines, "user", username="rev")
    archive_lines[at]["f"][field] = value
    message = refused(write(tmp_path, archive_lines))
    assert f"line {at + 1}: user.{field}: {problem}" in message, message
