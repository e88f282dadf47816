"""Bringing existing codings in: the service, the command, the page and its job."""

import gzip
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotator.agreement_report import project_report
from annotator.exporting import annotation_rows
from annotator.gold import refresh_gold
from annotator.models import (
    Annotation,
    Assignment,
    ChangeCounter,
    GoldLabel,
    Job,
    JobState,
    Label,
    Project,
    WorkItem,
)
from annotator.services import claim_next_span, submit_annotation
from annotator.services.codings_import import import_codings
from annotator.services.codings_reading import MAX_ERRORS, CodingsImportFailed
from tests.factories import make_project

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def project(manager):
    return make_project(
        documents=2,
        spans_per_document=3,
        coders=["ann", "bob"],
        manager=manager,
        sample_share=0.5,
    )


def spans(project):
    return list(
        WorkItem.objects.filter(project=project)
        .order_by("position")
        .values_list("span_id", flat=True)
    )


def csv_file(lines: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def codings_csv(project) -> list[str]:
    first, second = spans(project)[:2]
    return [
        "span_id,coder,dimension,category,value",
        f"{first},ann,topic,arms,",
        f"{first},ann,stance,,0",
        f"{first},bob,topic,arms,",
        f"{first},bob,stance,neutral,",
        f"{second},ann,topic,trade,",
        f"{second},ann,stance,hostile,",
        f"{second},ann,tags,quote,",
    ]


def run(project, lines, name="codings.csv"):
    return import_codings(project=project, stream=csv_file(lines), name=name)


def test_csv_import_stores_what_a_submit_stores(project):
    before = project.total_codings
    report = run(project, codings_csv(project))
    assert (report.imported, report.unchanged, report.labels) == (3, 0, 7)
    annotations = Annotation.objects.filter(project=project)
    assert {a.source for a in annotations} == {"imported"}
    first, second = spans(project)[:2]
    ann = get_user_model().objects.get(username="ann")
    stored = Annotation.objects.with_labels().get(
        assignment__span_id=second, assignment__coder=ann
    )
    assert stored.label_keys() == {
        "stance": ["hostile"],
        "tags": ["quote"],
        "topic": ["trade"],
    }
    assert set(
        Assignment.objects.filter(project=project).values_list("status", flat=True)
    ) == {"completed"}
    item = WorkItem.objects.get(project=project, span_id=first)
    assert item.taken == 2 and item.target >= 2 and item.in_sample
    assert ChangeCounter.objects.number_of(project) == 1
    assert {a.change for a in annotations} == {1}
    project.refresh_from_db()
    grown = project.total_codings - before
    # Every place taken is counted: no target below what it has taken.
    assert all(
        taken <= target
        for taken, target in WorkItem.objects.filter(project=project).values_list(
            "taken", "target"
        )
    )
    assert grown >= 0


def test_jsonl_import_by_document_and_span_index(project):
    span = WorkItem.objects.filter(project=project).order_by("position").first().span
    rows = [
        {
            "document_id": span.document_id,
            "span_index": span.index,
            "coder": "ann",
            "dimension": "topic",
            "category": "other",
        },
        {
            "document_title": span.document.title,
            "span_index": span.index,
            "coder": "ann",
            "dimension": "stance",
            "category": "friendly",
        },
    ]
    stream = io.BytesIO("\n".join(json.dumps(r) for r in rows).encode())
    report = import_codings(project=project, stream=stream, name="c.jsonl")
    assert report.imported == 1
    assert Label.objects.filter(project=project, span=span).count() == 2


def test_reimport_changes_nothing(project):
    run(project, codings_csv(project))
    counter = ChangeCounter.objects.number_of(project)
    report = run(project, codings_csv(project))
    assert (report.imported, report.unchanged) == (0, 3)
    assert ChangeCounter.objects.number_of(project) == counter
    assert Annotation.objects.filter(project=project).count() == 3


def test_conflicting_reimport_is_refused_whole(project):
    run(project, codings_csv(project))
    lines = codings_csv(project)
    lines[1] = lines[1].replace("arms", "trade")
    lines.append(f"{spans(project)[3]},bob,topic,arms,")
    lines.append(f"{spans(project)[3]},bob,stance,neutral,")
    with pytest.raises(CodingsImportFailed) as caught:
        run(project, lines)
    assert "line 2, field 'category'" in str(caught.value)
    assert "never overwrites" in str(caught.value)
    assert Annotation.objects.filter(project=project).count() == 3


@pytest.mark.parametrize(
    "row, line_field, words",
    [
        ("x,ann,topic,arms,", "field 'span_id'", "not a whole number"),
        ("²,ann,topic,arms,", "field 'span_id'", "not a whole number"),
        ("9" * 30 + ",ann,topic,arms,", "field 'span_id'", "not a whole number"),
        ("999999,ann,topic,arms,", "field 'span_id'", "not one this project codes"),
        ("{span},zed,topic,arms,", "field 'coder'", "not a coder of this project"),
        ("{span},ann,mood,arms,", "field 'dimension'", "not a dimension"),
        ("{span},ann,topic,peace,", "field 'category'", "not a category"),
        ("{span},ann,topic,,7", "field 'value'", "no categories"),
        ("{span},ann,tags,quote,", "field 'dimension'", "required"),
    ],
)
def test_every_error_names_line_and_field_and_nothing_is_written(
    project, row, line_field, words
):
    span = spans(project)[0]
    lines = [
        "span_id,coder,dimension,category,value",
        f"{spans(project)[1]},bob,topic,arms,",
        f"{spans(project)[1]},bob,stance,neutral,",
        row.format(span=span),
    ]
    with pytest.raises(CodingsImportFailed) as caught:
        run(project, lines)
    message = str(caught.value)
    assert "codings.csv, line" in message and line_field in message
    assert words in message
    assert Annotation.objects.filter(project=project).count() == 0
    assert Assignment.objects.filter(project=project).count() == 0
    assert ChangeCounter.objects.number_of(project) is None


def test_a_document_and_index_naming_no_span_is_one_problem(project):
    document = project.corpus.documents.first()
    lines = [
        "document_id,span_index,coder,dimension,category",
        f"{document.pk},99,ann,topic,arms",
        "7x,0,ann,topic,arms",
        "12345678,0,ann,topic,arms",
    ]
    with pytest.raises(CodingsImportFailed) as caught:
        run(project, lines)
    assert sorted(caught.value.messages) == [
        "codings.csv, line 2, field 'span_index': no such span in that document.",
        "codings.csv, line 3, field 'document_id': '7x' is not a whole number.",
        "codings.csv, line 4, field 'span_index': no such span in that document.",
    ]


def test_bad_header_and_bad_json_name_line_and_field(project):
    with pytest.raises(CodingsImportFailed, match="line 1, field 'header'"):
        run(project, ["span,who", "1,ann"])
    stream = io.BytesIO(b'{"span_id": 1}\nnot json\n[1]\n{"colour": "red"}\n')
    with pytest.raises(CodingsImportFailed) as caught:
        import_codings(project=project, stream=stream, name="c.jsonl")
    message = str(caught.value)
    assert "line 2, field 'line': not JSON" in message
    assert "line 3, field 'line': not a JSON object" in message
    assert "line 4, field 'colour'" in message


def test_errors_stop_after_the_limit(project):
    lines = ["span_id,coder,dimension,category,value"] + [
        "x,ann,topic,arms," for _ in range(MAX_ERRORS * 3)
    ]
    with pytest.raises(CodingsImportFailed) as caught:
        run(project, lines)
    assert len(caught.value.messages) == MAX_ERRORS + 1
    assert caught.value.messages[-1] == f"Stopped after {MAX_ERRORS} problems."


def test_live_claim_refused_lapsed_claim_completed(project):
    ann = get_user_model().objects.get(username="ann")
    claim = claim_next_span(project=project, coder=ann)
    lines = [
        "span_id,coder,dimension,category",
        f"{claim.span_id},ann,topic,arms",
        f"{claim.span_id},ann,stance,neutral",
    ]
    with pytest.raises(CodingsImportFailed, match="holds an open claim"):
        run(project, lines)
    Assignment.objects.filter(pk=claim.pk).update(status="expired")
    WorkItem.objects.filter(pk=claim.work_item_id).update(taken=0)
    assert run(project, lines).imported == 1
    claim.refresh_from_db()
    assert claim.status == "completed" and claim.annotation.source == "imported"


def test_imported_codes_count_in_agreement_gold_and_exports(project):
    run(project, codings_csv(project))
    first = spans(project)[0]
    refresh_gold(project)
    gold = GoldLabel.objects.get(project=project, span_id=first, dimension__key="topic")
    assert gold.category.key == "arms"
    report = project_report(project, n_resamples=10)
    topic = next(d for d in report.dimensions if d.key == "topic")
    assert topic.n_units_coded == 2 and topic.n_ratings == 3
    rows = list(annotation_rows(project))
    assert rows and {row["source"] for row in rows} == {"imported"}


def test_coded_and_imported_mix_and_new_codes_make_gold_stale(project):
    bob = get_user_model().objects.get(username="bob")
    claim = claim_next_span(project=project, coder=bob)
    submit_annotation(
        coder=bob, assignment=claim, labels={"topic": "arms", "stance": "neutral"}
    )
    refresh_gold(project)
    lines = [
        "span_id,coder,dimension,category",
        f"{claim.span_id},ann,topic,trade",
        f"{claim.span_id},ann,stance,neutral",
    ]
    run(project, lines)
    sources = dict(
        Annotation.objects.filter(project=project).values_list(
            "assignment__coder__username", "source"
        )
    )
    assert sources == {"bob": "coded", "ann": "imported"}
    from annotator.gold import gold_is_fresh

    assert not gold_is_fresh(project)


def test_archive_round_trip_keeps_the_source(transactional_db, tmp_path):
    project = make_project(documents=2, spans_per_document=3, coders=["ann", "bob"])
    run(project, codings_csv(project))
    path = tmp_path / "project.jsonl.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_project", str(path), stdout=io.StringIO())
    assert list(Annotation.objects.values_list("source", flat=True)) == ["imported"] * 3


def test_an_archive_from_before_sources_restores_as_coded(transactional_db, tmp_path):
    """Archives written before Annotation.source and Project.closed_at lack them."""
    project = make_project(
        documents=1, spans_per_document=2, coders=["ann"], coders_per_span=1
    )
    run(project, codings_csv(project)[:3])
    path = tmp_path / "project.jsonl.gz"
    call_command("archive_project", str(project.pk), "-o", str(path))
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    older = []
    for line in lines:
        row = json.loads(line)
        if row.get("t") == "annotator.annotation":
            row["f"].pop("source")
        if row.get("t") == "annotator.project":
            row["f"].pop("closed_at")
        older.append(json.dumps(row))
    path.write_bytes(gzip.compress(("\n".join(older) + "\n").encode()))
    call_command("flush", interactive=False, verbosity=0)
    call_command("restore_project", str(path), stdout=io.StringIO())
    assert list(Annotation.objects.values_list("source", flat=True)) == ["coded"]
    assert Project.objects.get().closed_at is None


def test_command_imports_and_names_errors(project, tmp_path):
    good = tmp_path / "codings.csv"
    good.write_text("\n".join(codings_csv(project)) + "\n")
    out = io.StringIO()
    call_command("import_codings", "--project", str(project.pk), str(good), stdout=out)
    assert "3 codings imported" in out.getvalue()
    call_command("import_codings", "--project", str(project.pk), str(good), stdout=out)
    assert "0 codings imported (0 codes); 3 already there" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("span_id,coder,dimension,category\nx,ann,topic,arms\n")
    with pytest.raises(CommandError, match="bad.csv, line 2, field 'span_id'"):
        call_command("import_codings", "--project", str(project.pk), str(bad))


# --- the page ------------------------------------------------------------------------


def page_url(project):
    return reverse("project-codings-import", args=[project.pk])


def test_page_full_and_partial(client, manager, project):
    client.force_login(manager)
    full = client.get(page_url(project))
    assert full.status_code == 200
    assert b"<html" in full.content and b"Import codings" in full.content
    partial = client.get(page_url(project), headers=HTMX)
    assert partial.status_code == 200 and b"<html" not in partial.content
    assert b'id="codings-import-form"' in partial.content


def test_upload_runs_a_job_that_imports(client, manager, project):
    client.force_login(manager)
    upload = SimpleUploadedFile(
        "codings.csv", ("\n".join(codings_csv(project)) + "\n").encode()
    )
    response = client.post(page_url(project), {"file": upload})
    assert response.status_code == 303
    job = Job.objects.get(project=project, kind="codings_import")
    assert job.state == JobState.DONE and "3 codings imported" in job.note
    assert Annotation.objects.filter(project=project, source="imported").count() == 3
    page = client.get(reverse("job-detail", args=[job.pk]))
    assert b"3 codings imported" in page.content


def test_upload_with_errors_fails_the_job_in_words(client, manager, project):
    client.force_login(manager)
    upload = SimpleUploadedFile(
        "bad.csv", b"span_id,coder,dimension,category\nx,ann,topic,arms\n"
    )
    client.post(page_url(project), {"file": upload})
    job = Job.objects.get(project=project, kind="codings_import")
    assert job.state == JobState.FAILED
    assert "bad.csv, line 2, field 'span_id'" in job.error
    assert "Nothing was imported." in job.error
    page = client.get(reverse("job-detail", args=[job.pk]))
    assert b"line 2, field" in page.content


def test_empty_upload_is_a_form_error(client, manager, project):
    client.force_login(manager)
    response = client.post(page_url(project), {}, headers=HTMX)
    assert response.status_code == 200
    assert b"required" in response.content.lower()
    assert not Job.objects.filter(project=project).exists()


def test_a_move_committed_while_the_file_was_read_refuses_the_import(project):
    """The file is checked against the version the project was on when the import
    started; if a codebook move commits meanwhile (a worker beside this one),
    storing the codings would leave them on a version the project has left."""
    from annotator.codebooks import import_codebook
    from annotator.models import Project
    from tests.factories import newer_data

    # Another family's codebook: the project's own v1 is unused, so a newer
    # version of it would be rewritten in place, under the same id.
    newer, _ = import_codebook(
        newer_data(name="Another codebook", family="another-codebook")
    )
    assert newer.pk != project.codebook_id
    read_before_the_move = Project.objects.get(pk=project.pk)
    Project.objects.filter(pk=project.pk).update(codebook=newer)
    with pytest.raises(CodingsImportFailed) as caught:
        run(read_before_the_move, codings_csv(project))
    assert "moved to codebook version 1 while this file was read" in str(caught.value)
    assert "nothing was imported" in str(caught.value)
    assert not Annotation.objects.filter(project=project).exists()
