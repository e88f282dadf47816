import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from corpus.models import Span, content_hash, validate_partial_date
from tests.factories import DocumentFactory


@pytest.mark.django_db
def test_make_span_cuts_text_from_the_document():
    document = DocumentFactory(text="Alpha beta. Gamma delta.")
    span = document.make_span(index=9, start=12, end=24)
    assert span.text == "Gamma delta." == document.text[span.start : span.end]


@pytest.mark.django_db
@pytest.mark.parametrize("start,end", [(-1, 3), (5, 5), (3, 2), (0, 999)])
def test_make_span_refuses_offsets_outside_the_document(start, end):
    document = DocumentFactory(text="short text")
    with pytest.raises(ValidationError):
        document.make_span(index=0, start=start, end=end)


@pytest.mark.django_db
def test_database_refuses_span_text_that_does_not_match_its_offsets():
    document = DocumentFactory(text="Alpha beta. Gamma delta.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Span.objects.create(document=document, index=50, start=0, end=5, text="Alph")


@pytest.mark.django_db
def test_factory_spans_round_trip():
    document = DocumentFactory()
    for span in document.spans.all():
        assert document.text[span.start : span.end] == span.text


@pytest.mark.parametrize("value", ["2022", "2017-07", "2017-07-30", ""])
def test_partial_dates_are_accepted(value):
    validate_partial_date(value)


@pytest.mark.parametrize(
    "value", ["22", "2017-13", "2017-02-31", "May 2022", "2017/07/30"]
)
def test_malformed_dates_are_refused(value):
    with pytest.raises(ValidationError):
        validate_partial_date(value)


def test_content_hash_ignores_line_endings_and_spacing():
    assert content_hash("a  b\r\nc ") == content_hash("a b\nc")
    assert content_hash("a b") != content_hash("a c")
