import json

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.codebooks import (
    codebook_to_data,
    dump_codebook,
    import_codebook,
    new_codebook_version,
    read_codebook_file,
)
from annotator.demo import FIXTURES
from annotator.models import Codebook
from annotator.services import claim_next_span, submit_annotation
from tests.factories import SMALL_CODEBOOK, UserFactory, make_codebook, make_project

pytestmark = pytest.mark.django_db
LABELS = {"topic": "arms", "stance": "neutral"}


def with_category(data, dimension_key, category):
    """A copy of codebook data with one more category in one dimension."""
    data = json.loads(json.dumps(data))
    for dimension in data["dimensions"]:
        if dimension["key"] == dimension_key:
            dimension["categories"].append(category)
    return data


def code_one(project):
    coder = project.memberships.get(role="coder").user
    assignment = claim_next_span(project=project, coder=coder)
    return submit_annotation(coder=coder, assignment=assignment, labels=LABELS)


def test_default_codebook_fixture_imports_cleanly(capsys):
    call_command("import_codebook", str(FIXTURES / "codebook.yaml"))
    codebook = Codebook.objects.get(family="russia-us-topic-stance")
    assert "created" in capsys.readouterr().out
    dimensions = {d.key: d for d in codebook.dimensions.all()}
    assert list(dimensions) == ["topic", "stance"]
    assert [c.key for c in dimensions["topic"].categories.all()] == [
        "arms_control", "syria", "cyber", "sanctions", "visas", "none"
    ]  # fmt: skip
    assert [c.value for c in dimensions["stance"].categories.all()] == [-1, 0, 1]
    syria = dimensions["topic"].categories.get(key="syria")
    assert syria.typical_words == ["de-escalation zone", "Syria", "deconfliction"]
    assert syria.examples[0].startswith("the creation of the southern zone")
    assert syria.shortcut == "2" and "deconfliction channels" in syria.definition
    assert dimensions["stance"].level == "ordinal"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_import_round_trips(tmp_path, fmt, capsys):
    call_command("import_codebook", str(FIXTURES / "codebook.yaml"))
    original = Codebook.objects.get(family="russia-us-topic-stance")
    out = tmp_path / f"book.{fmt}"
    call_command("export_codebook", "russia-us-topic-stance", "-o", str(out))
    text = out.read_text(encoding="utf-8")
    parsed = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    assert parsed == codebook_to_data(original)
    capsys.readouterr()

    call_command("import_codebook", str(out))
    assert "unchanged" in capsys.readouterr().out
    assert Codebook.objects.filter(family="russia-us-topic-stance").count() == 1

    # A fresh database (another installation) gets the same codebook back.
    Codebook.objects.all().delete()
    restored, outcome = import_codebook(read_codebook_file(out))
    assert outcome == "created"
    assert codebook_to_data(restored) == {**parsed, "version": 1}


def test_export_by_id_to_stdout_and_format_flag(capsys):
    codebook = make_codebook()
    call_command("export_codebook", str(codebook.pk), "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert data["family"] == "test-codebook"
    assert [d["key"] for d in data["dimensions"]] == ["topic", "stance", "tags"]
    assert yaml.safe_load(dump_codebook(codebook)) == data


def test_export_names_unknown_codebooks():
    make_codebook()
    with pytest.raises(CommandError, match="No codebook family 'nope'.*test-codebook"):
        call_command("export_codebook", "nope")
    with pytest.raises(CommandError, match="No codebook with id 99999"):
        call_command("export_codebook", "99999")
    with pytest.raises(CommandError, match="has no version 7"):
        call_command("export_codebook", "test-codebook", "--codebook-version", "7")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["dimensions"][0]["categories"].append({"key": "arms"}),
            "dimension 'topic', category 'arms': key used twice",
        ),
        (
            lambda d: d["dimensions"][1]["categories"][0].pop("value"),
            "dimension 'stance', category 'hostile': ordinal categories need a "
            "numeric value",
        ),
        (
            lambda d: d["dimensions"][2]["categories"][0].update(shortcut="1"),
            "dimension 'tags', category 'quote': shortcut '1' is already used by "
            "dimension 'topic', category 'arms'",
        ),
        (
            lambda d: d["dimensions"][2]["categories"][0].update(shortcut="S"),
            "dimension 'tags', category 'quote': shortcut 'S' is already used by "
            "dimension 'stance', category 'neutral' (shortcuts ignore case",
        ),
        (
            lambda d: d["dimensions"][0].update(level="interval"),
            "dimension 'topic': level must be one of",
        ),
        (
            lambda d: d["dimensions"][2].update(categories=[{"key": "x"}]),
            "dimension 'tags': needs a list of at least two categories",
        ),
        (lambda d: d.update(dimensions=[]), "dimensions: a non-empty list"),
        (
            lambda d: d["dimensions"][2].update(key="comment"),
            "dimension 'comment': 'comment' is reserved by the coding form",
        ),
    ],
)
def test_validation_errors_name_the_entry(tmp_path, change, message):
    data = json.loads(json.dumps(SMALL_CODEBOOK))
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as caught:
        call_command("import_codebook", str(path))
    assert message in str(caught.value)
    assert "nothing imported" in str(caught.value)
    assert not Codebook.objects.exists()


def test_unparseable_and_missing_files_are_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(CommandError, match="bad.yaml.*cannot parse"):
        call_command("import_codebook", str(bad))
    with pytest.raises(CommandError, match="missing.yaml: No such file"):
        call_command("import_codebook", str(tmp_path / "missing.yaml"))


def test_unused_version_is_updated_in_place():
    codebook = make_codebook()
    changed = with_category(SMALL_CODEBOOK, "topic", {"key": "cyber"})
    updated, outcome = import_codebook(changed)
    assert (outcome, updated.pk, updated.version) == ("updated", codebook.pk, 1)
    assert "cyber" in updated.dimensions.get(key="topic").categories.values_list(
        "key", flat=True
    )


def test_changing_a_codebook_in_use_makes_version_2_and_annotations_keep_v1(
    capsys, tmp_path
):
    project = make_project(documents=1, spans_per_document=2, coders=["ann"])
    annotation = code_one(project)
    v1 = project.codebook
    assert v1.is_in_use()

    path = tmp_path / "v2.yaml"
    path.write_text(
        yaml.safe_dump(with_category(SMALL_CODEBOOK, "topic", {"key": "cyber"}))
    )
    call_command("import_codebook", str(path))
    out = capsys.readouterr().out
    assert "test-codebook v2" in out and "new version" in out
    assert f"Project '{project.name}' keeps coding with its earlier version" in out

    v2 = Codebook.objects.get(family="test-codebook", version=2)
    assert "cyber" in v2.dimensions.get(key="topic").categories.values_list(
        "key", flat=True
    )
    assert "cyber" not in v1.dimensions.get(key="topic").categories.values_list(
        "key", flat=True
    )
    annotation.refresh_from_db()
    assert annotation.codebook_id == v1.pk
    assert annotation.label_keys() == {"stance": ["neutral"], "topic": ["arms"]}

    # Importing the same change again is a no-op on the latest version.
    assert (
        import_codebook(with_category(SMALL_CODEBOOK, "topic", {"key": "cyber"}))[1]
        == "unchanged"
    )


def test_new_codebook_version_copies_a_frozen_version():
    project = make_project(documents=1, spans_per_document=1, coders=["ann"])
    code_one(project)
    copy = new_codebook_version(project.codebook)
    assert copy.version == 2 and not copy.is_in_use()
    assert {**codebook_to_data(copy), "version": 1} == codebook_to_data(
        project.codebook
    )


def test_admin_refuses_to_change_a_frozen_version(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    free = make_codebook(family="free", name="Free")
    project = make_project(documents=1, spans_per_document=1, coders=["ann"])
    code_one(project)
    frozen = project.codebook
    url = reverse("admin:annotator_codebook_change", args=[frozen.pk])

    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.text
    response = client.post(url, {"name": "Renamed", "family": frozen.family})
    assert response.status_code == 403
    frozen.refresh_from_db()
    assert frozen.name == "Test codebook"
    dimension = frozen.dimensions.first()
    dimension_url = reverse("admin:annotator_dimension_change", args=[dimension.pk])
    assert client.post(dimension_url, {"label": "X"}).status_code == 403
    delete_url = reverse("admin:annotator_codebook_delete", args=[frozen.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403

    free_page = client.get(reverse("admin:annotator_codebook_change", args=[free.pk]))
    assert 'name="_save"' in free_page.text
