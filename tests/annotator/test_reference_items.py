"""Reference items: marked from gold, by hand, from a file; edited, retired, carried.

Also the list's warnings, and that coders never see them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.codebooks import import_codebook
from annotator.gold import refresh_gold
from annotator.gold.adjudication import adjudicate
from annotator.models import Project, ReferenceItem, WorkItem
from annotator.training import pool, reference
from annotator.training.reference_forms import REFERENCE_UPLOAD
from corpus.models import Span
from tests.factories import (
    make_project,
    make_reference_items,
    make_topics_project,
    member,
    newer_data,
)

pytestmark = pytest.mark.django_db
Use = ReferenceItem.Use
CODES = {"topic": ["trade"], "stance": ["hostile"], "tags": ["number", "quote"]}


@pytest.fixture
def project() -> Project:
    return make_project(documents=2, spans_per_document=3, coders=("ann",))


@pytest.fixture
def reviewer(project):
    return member(project, "rita", "reviewer")


@pytest.fixture
def rclient(client, reviewer):
    client.force_login(reviewer)
    return client


def url(name: str, project: Project, *args) -> str:
    return reverse(name, args=[project.pk, *args])


def spans(project: Project) -> list[Span]:
    return list(
        Span.objects.filter(document__corpus_id=project.corpus_id).order_by(
            "document_id", "index"
        )
    )


def pool_item(item: ReferenceItem) -> WorkItem | None:
    return WorkItem.objects.filter(
        project_id=pool.pool_id(item.project), span_id=item.span_id
    ).first()


def upload(rows: list[dict], name: str = "reference.csv") -> SimpleUploadedFile:
    if name.endswith(".jsonl"):
        text = "".join(json.dumps(row) + "\n" for row in rows)
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
        text = out.getvalue()
    return SimpleUploadedFile(name, text.encode())


# --- who may -----------------------------------------------------------------------


def test_coders_are_refused_on_every_page_and_see_no_codes(client, project):
    (item,) = make_reference_items(project, 1, Use.PRACTICE, codes=CODES)
    client.force_login(project.memberships.get(role="coder").user)
    response = client.get(url("project-reference", project))
    assert response.status_code == 403 and item.explanation not in response.text
    for name, args in (
        ("project-reference-new", ()),
        ("project-reference-upload", ()),
        ("project-reference-item", (item.pk,)),
    ):
        for method in (client.get, client.post):
            response = method(url(name, project, *args))
            assert response.status_code == 403, (name, method)
            assert item.explanation not in response.text
    response = client.post(
        url("project-reference-from-gold", project),
        {"span": spans(project)[0].pk, "use": "test"},
    )
    assert response.status_code == 403
    assert ReferenceItem.objects.count() == 1


def test_a_manager_marks_too(client, project):
    client.force_login(member(project, "mona", "manager"))
    response = client.post(
        url("project-reference-new", project),
        {"span_id": spans(project)[0].pk, "use": "practice", **CODES},
    )
    assert response.status_code == 303
    assert ReferenceItem.objects.get().created_by.username == "mona"


# --- by hand -----------------------------------------------------------------------


def test_marking_by_hand_by_span_id(rclient, project, reviewer):
    page = rclient.get(url("project-reference-new", project))
    assert page.status_code == 200 and 'name="topic"' in page.text
    span = spans(project)[1]
    response = rclient.post(
        url("project-reference-new", project),
        {
            "span_id": span.pk,
            "use": "test",
            "explanation": " Trade, hostile. ",
            **CODES,
        },
    )
    assert response.status_code == 303
    assert response["Location"] == url("project-reference", project)
    item = ReferenceItem.objects.get()
    assert (item.span, item.use, item.source) == (span, "test", "hand")
    assert item.codes == CODES and item.explanation == "Trade, hostile."
    assert item.codebook_id == project.codebook_id and item.created_by == reviewer


def test_marking_by_hand_by_document_and_span_number(rclient, project):
    span = spans(project)[4]
    response = rclient.post(
        url("project-reference-new", project),
        {"document": span.document_id, "span_index": span.index, "use": "check",
         "topic": "arms", "stance": "neutral"},
    )  # fmt: skip
    assert response.status_code == 303
    item = ReferenceItem.objects.get()
    assert item.span == span
    assert item.codes == {"topic": ["arms"], "stance": ["neutral"], "tags": []}
    assert pool_item(item) is not None  # a check is placed in the pool


def test_marking_by_hand_refuses_in_words(rclient, project):
    other = make_project(documents=1, spans_per_document=1)
    foreign = spans(other)[0]
    post = url("project-reference-new", project)
    response = rclient.post(post, {"span_id": foreign.pk, "use": "test", **CODES})
    assert response.status_code == 200
    assert f"Span {foreign.pk} is not in this project&#x27;s corpus." in response.text
    span = spans(project)[0]
    response = rclient.post(
        post, {"span_id": span.pk, "use": "test", "topic": "nonsense"}
    )
    assert "&#x27;nonsense&#x27; is not a category of this dimension." in response.text
    assert "Stance: choose a category (required)." in response.text
    response = rclient.post(post, {"use": "test", **CODES})
    assert "Give a span id, or a document and the span" in response.text
    assert not ReferenceItem.objects.exists()
    make_reference_items(project, 1, Use.PRACTICE, spans=[span])
    response = rclient.post(post, {"span_id": span.pk, "use": "test", **CODES})
    assert f"Span {span.pk} is already a reference item (practice)" in response.text
    assert ReferenceItem.objects.get().use == "practice"


# --- from gold -----------------------------------------------------------------------


def test_from_gold_takes_the_decided_label(client):
    project = make_topics_project()
    reviewer = member(project, "rita", "reviewer")
    span = spans(project)[0]  # both coders said "arms"
    refresh_gold(project)
    adjudicate(project, span.pk, "topic", "other", reviewer=reviewer)
    client.force_login(reviewer)
    decided = client.get(url("project-adjudicate-decided", project))
    assert url("project-reference-from-gold", project) in decided.text
    assert "Make reference item" in decided.text
    swapped = client.get(
        url("project-adjudicate-decided", project), headers={"HX-Request": "true"}
    )  # the list's partial keeps the button
    assert "<h1>" not in swapped.text and "Make reference item" in swapped.text
    response = client.post(
        url("project-reference-from-gold", project), {"span": span.pk, "use": "test"}
    )
    assert response.status_code == 303
    assert response["Location"] == url("project-adjudicate-decided", project)
    item = ReferenceItem.objects.get()
    assert item.codes == {"topic": ["other"], "stance": ["neutral"], "tags": []}
    assert (item.source, item.use, item.created_by) == ("gold", "test", reviewer)
    again = client.post(
        url("project-reference-from-gold", project),
        {"span": span.pk, "use": "check"},
        follow=True,
    )
    assert "is already a reference item (certification test)" in again.text
    assert ReferenceItem.objects.count() == 1


def test_from_gold_refuses_a_span_without_gold(project):
    span = spans(project)[0]
    with pytest.raises(ValidationError, match="has no gold codes yet"):
        reference.mark_from_gold(project, span_id=span.pk, use="test")
    refresh_gold(project)
    assert not ReferenceItem.objects.exists()


# --- the upload ----------------------------------------------------------------------


def test_an_upload_makes_one_item_per_span(rclient, project, reviewer):
    s = spans(project)
    rows = [
        {"span_id": s[0].pk, "use": "practice", "dimension": "topic",
         "category": "arms", "explanation": "Arms, plainly."},
        {"span_id": s[0].pk, "dimension": "stance", "value": "-1"},
        {"span_id": s[0].pk, "dimension": "tags", "category": "quote"},
        {"span_id": s[0].pk, "dimension": "tags", "category": "number"},
        {"document_id": s[4].document_id, "span_index": s[4].index, "use": "check",
         "dimension": "topic", "category": "trade"},
        {"document_id": s[4].document_id, "span_index": s[4].index,
         "dimension": "stance", "category": "neutral"},
    ]  # fmt: skip
    for name in ("reference.csv", "reference.jsonl"):
        ReferenceItem.objects.all().delete()
        response = rclient.post(
            url("project-reference-upload", project), {"file": upload(rows, name)}
        )
        assert response.status_code == 303, response.text
        first, second = ReferenceItem.objects.order_by(
            "span__document_id", "span__index"
        )
        assert first.codes == {
            "topic": ["arms"], "stance": ["hostile"], "tags": ["number", "quote"]
        }  # fmt: skip
        assert (first.use, first.source, first.explanation) == (
            "practice", "upload", "Arms, plainly."
        )  # fmt: skip
        assert first.created_by == reviewer
        assert (second.span, second.use) == (s[4], "check")
        assert pool_item(second) is not None and pool_item(first) is None


def test_upload_errors_name_line_and_field_and_nothing_is_written(rclient, project):
    s = spans(project)
    other = spans(make_project(documents=1, spans_per_document=1))[0]
    make_reference_items(project, 1, Use.TEST, spans=[s[2]])
    rows = [
        {"span_id": s[0].pk, "use": "practice", "dimension": "topic",
         "category": "arms"},
        {"span_id": s[0].pk, "dimension": "stance", "category": "neutral"},
        {"span_id": s[1].pk, "use": "sometimes", "dimension": "topic",
         "category": "x"},
        {"span_id": other.pk, "use": "test", "dimension": "topic", "category": "arms"},
        {"span_id": s[3].pk, "use": "test", "dimension": "topic", "category": "arms"},
        {"document_id": s[0].document_id, "span_index": 99, "use": "test",
         "dimension": "hue", "category": "arms"},
    ]  # fmt: skip
    response = rclient.post(
        url("project-reference-upload", project), {"file": upload(rows)}
    )
    assert response.status_code == 200
    text = response.text.replace("&#x27;", "'")
    for expected in (
        "reference.csv, line 4, field 'use': 'sometimes' is not a use",
        "reference.csv, line 4, field 'category': 'x' is not a category of dimension "
        "'topic'.",
        f"reference.csv, line 5, field 'span_id': span {other.pk} is not in this "
        "project's corpus.",
        "reference.csv, line 6, field 'dimension': 'stance' of span "
        f"{s[3].pk}: Stance: choose a category (required).",
        "reference.csv, line 7, field 'span_index': no such span in that document.",
        "reference.csv, line 7, field 'dimension': 'hue' is not a dimension",
    ):
        assert expected in text, expected
    assert ReferenceItem.objects.count() == 1  # only the one made before
    # A span already marked: refused likewise, naming the line.
    taken = [
        {"span_id": s[2].pk, "use": "practice", "dimension": "topic",
         "category": "arms"},
        {"span_id": s[2].pk, "dimension": "stance", "category": "neutral"},
    ]  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        reference.import_reference(project, upload(taken), "again.csv")
    assert (
        f"again.csv, line 2, field 'span_id': Span {s[2].pk} is already a reference "
        "item (certification test)"
    ) in str(refused.value)
    assert ReferenceItem.objects.count() == 1


def test_upload_refuses_an_empty_file_and_a_wrong_header(project):
    with pytest.raises(ValidationError, match="line 1, field 'file': no reference"):
        reference.import_reference(project, io.BytesIO(b""), "empty.jsonl")
    with pytest.raises(ValidationError, match="unknown column 'coder'"):
        reference.import_reference(
            project, io.BytesIO(b"span_id,coder\n1,ann\n"), "codings.csv"
        )


def test_upload_size_is_limited_naming_file_and_limit(rclient, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    rows = [{"span_id": spans(project)[0].pk, "use": "test", "dimension": "topic"}]
    response = rclient.post(
        url("project-reference-upload", project), {"file": upload(rows * 10_000)}
    )
    assert response.status_code == 413
    assert "at most 50,000 bytes are accepted" in response.text
    small = SimpleUploadedFile("small.csv", b"x" * 100)
    assert REFERENCE_UPLOAD.limit == 50_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 99
    with pytest.raises(ValidationError, match="small.csv: 100 bytes is over the 99-"):
        REFERENCE_UPLOAD.check_size(small)
    assert not ReferenceItem.objects.exists()


# --- editing, retiring, carrying ------------------------------------------------


def test_changing_use_to_check_places_the_item_in_the_pool(rclient, project):
    (item,) = make_reference_items(project, 1, Use.PRACTICE)
    assert pool_item(item) is None
    page = rclient.get(url("project-reference-item", project, item.pk))
    assert page.status_code == 200 and item.explanation in page.text
    response = rclient.post(
        url("project-reference-item", project, item.pk),
        {"use": "check", "explanation": "Now a check.", **CODES},
    )
    assert response.status_code == 303
    item.refresh_from_db()
    assert (item.use, item.codes, item.explanation) == ("check", CODES, "Now a check.")
    assert pool_item(item) is not None
    bad = rclient.post(
        url("project-reference-item", project, item.pk),
        {"use": "test", "topic": "arms"},
    )
    assert bad.status_code == 200 and "choose a category (required)" in bad.text
    item.refresh_from_db()
    assert item.use == "check"


def test_retiring_hides_the_item_from_its_use_and_restoring_serves_it(rclient, project):
    (item,) = make_reference_items(project, 1, Use.TEST)
    assert list(ReferenceItem.objects.for_use(project, Use.TEST)) == [item]
    here = url("project-reference-item", project, item.pk)
    assert rclient.post(here, {"action": "retire"}).status_code == 303
    assert not ReferenceItem.objects.for_use(project, Use.TEST).exists()
    listed = rclient.get(url("project-reference", project))
    assert "Retired" in listed.text
    rclient.post(here, {"action": "restore"})
    assert list(ReferenceItem.objects.for_use(project, Use.TEST)) == [item]


def test_an_item_of_an_older_version_is_carried_when_its_codes_still_hold(rclient):
    project = make_topics_project()
    rclient.force_login(member(project, "rita", "reviewer"))
    s = spans(project)
    fits, lost = (
        make_reference_items(project, 1, Use.TEST, spans=[s[0]])[0],
        make_reference_items(
            project, 1, Use.TEST, spans=[s[1]],
            codes={"topic": ["other"], "stance": ["neutral"], "tags": []},
        )[0],
    )  # fmt: skip
    new = import_codebook(newer_data())[0]
    assert new.pk != project.codebook_id
    Project.objects.filter(pk=project.pk).update(codebook=new)
    project.refresh_from_db()
    assert not ReferenceItem.objects.for_use(project, Use.TEST).exists()
    listed = rclient.get(url("project-reference", project)).text
    assert "2 items are on an older codebook version and not served: 1 can be" in listed
    page = rclient.get(url("project-reference-item", project, lost.pk)).text
    assert "cannot be carried as it is" in page
    refused = rclient.post(
        url("project-reference-item", project, lost.pk),
        {"action": "carry"},
        follow=True,
    )
    assert "cannot be carried as it is" in refused.text
    rclient.post(url("project-reference-item", project, fits.pk), {"action": "carry"})
    assert list(ReferenceItem.objects.for_use(project, Use.TEST)) == [fits]
    # Giving the codes again moves the other item too.
    rclient.post(
        url("project-reference-item", project, lost.pk),
        {"use": "test", "topic": "energy", "stance": "neutral"},
    )
    lost.refresh_from_db()
    assert (lost.codebook_id, lost.codes["topic"]) == (new.pk, ["energy"])


# --- the list and its warnings ----------------------------------------------------


def test_the_list_warns_about_small_and_uniform_test_sets_and_open_checks(
    rclient, project
):
    make_reference_items(project, 2, Use.TEST)  # all arms, neutral, no tags
    (check,) = make_reference_items(project, 1, Use.CHECK)
    page = rclient.get(url("project-reference", project))
    assert page.status_code == 200
    text = page.text.replace("&#x27;", "'")
    assert "The test set has 2 items: α over fewer than about 10" in text
    assert "The test set uses 1 category of Topic: α is undefined" in text
    assert "The test set uses no categories of Tags" in text
    assert "1 check item is still open in the study's queue" in text
    assert 'Certification test <small class="muted">2 items' in text
    WorkItem.objects.filter(project=project, span=check.span).update(taken=2, target=2)
    assert "still open" not in rclient.get(url("project-reference", project)).text


def test_the_list_warns_about_a_check_without_its_pool_place(rclient, project):
    (check,) = make_reference_items(project, 1, Use.CHECK)
    pool_item(check).delete()
    page = rclient.get(url("project-reference", project))
    assert "1 check item has no place in the reference pool" in page.text


def test_the_list_reads_in_a_fixed_number_of_queries(
    rclient, project, django_assert_num_queries
):
    """Session, user, project, items, one codebook reading, the study's open work
    items, the pool and its places: the same for 1 item as for 6."""
    make_reference_items(project, 1, Use.CHECK)
    with django_assert_num_queries(10):
        assert rclient.get(url("project-reference", project)).status_code == 200
    make_reference_items(project, 3, Use.TEST)
    make_reference_items(project, 2, Use.CHECK)
    with django_assert_num_queries(10):
        assert rclient.get(url("project-reference", project)).status_code == 200
