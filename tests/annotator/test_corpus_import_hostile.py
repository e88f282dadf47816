"""Hostile corpus uploads: patterns that backtrack for ever, names of corpora the
manager cannot see, and a post without files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from corpus.models import Corpus, Document, Span
from tests.factories import CorpusFactory, UserFactory

pytestmark = pytest.mark.django_db
UNAVAILABLE = "That name is not available; choose another."


def upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"))


def post(client, **fields):
    data = {"segmentation": "line", "new_corpus_name": "New one", **fields}
    return client.post(reverse("corpus-import"), data)


# --- E: exclusion patterns, time-limited -------------------------------------------


def test_a_slow_pattern_fails_the_import_naming_it(manager_client, settings):
    settings.CORPUS_IMPORT_PATTERN_SECONDS = 0.05
    response = post(
        manager_client,
        files=[upload("docs.csv", "title,text\nSlow one," + "a" * 40 + "b\n")],
        exclude_patterns="(a|a)+$",
    )
    assert response.status_code == 303
    page = manager_client.get(response["Location"]).text
    assert "took over 0.05 s on span 1 of document" in page
    assert "Slow one" in page and "Nothing was imported" in page
    assert not Corpus.objects.filter(name="New one").exists()
    assert not Document.objects.exists()


def test_the_form_checks_patterns_with_the_import_s_engine(manager_client):
    """\\p{Lu} is the timed engine's syntax (re refused it): accepted and applied."""
    response = post(
        manager_client,
        files=[upload("a.txt", "Title\nSHOUTING\nquiet words")],
        exclude_patterns="\\p{Lu}+",
    )
    assert response.status_code == 303, response.text
    assert list(Span.objects.filter(excluded=True).values_list("text", flat=True)) == [
        "SHOUTING"
    ]
    bad = post(manager_client, files=[upload("a.txt", "x")], exclude_patterns="(")
    assert "Not a valid pattern: &#x27;(&#x27;" in bad.text


# --- F: names of corpora the manager cannot see, and posts without files -------------


def test_a_post_without_files_is_refused_and_creates_no_corpus(manager_client):
    response = post(manager_client)
    assert response.status_code == 200
    assert "Choose at least one file to import." in response.text
    assert not Corpus.objects.exists()


@pytest.fixture
def hidden():
    """A corpus another manager uploaded: this manager cannot see it."""
    return CorpusFactory(name="Secret talks", created_by=UserFactory(username="other"))


@pytest.mark.parametrize("name", ["Secret talks", "secret TALKS"])
def test_an_invisible_name_and_a_reserved_one_get_one_answer(
    manager_client, hidden, name
):
    """Names are unique, so a clash must be refused; the answer is the same for the
    exact name of a corpus the manager cannot see and for a free name reserved
    because it differs from one only in case."""
    response = post(
        manager_client, new_corpus_name=name, files=[upload("a.txt", "Text")]
    )
    assert response.status_code == 200
    assert UNAVAILABLE in response.text
    assert response.context["form"].errors == {"new_corpus_name": [UNAVAILABLE]}
    assert Corpus.objects.count() == 1


def test_a_visible_clash_points_to_the_corpus(manager_client, manager):
    CorpusFactory(name="Mine", created_by=manager)
    response = post(
        manager_client, new_corpus_name="mine", files=[upload("a.txt", "Text")]
    )
    assert "A corpus named &#x27;Mine&#x27; exists; choose it above." in response.text


# --- B: a multipart body in another charset ------------------------------------------


def test_a_multipart_form_in_another_charset_is_refused(manager_client):
    """Django decodes multipart fields in the charset the Content-Type names: in
    UTF-7, "+3AA-" is a lone surrogate, which no page or database can carry."""
    from django.test.client import BOUNDARY, encode_multipart

    body = encode_multipart(
        BOUNDARY,
        {
            "new_corpus_name": "+3AA-",
            "segmentation": "line",
            "files": [upload("a.txt", "Text")],
        },
    )
    response = manager_client.post(
        reverse("corpus-import"),
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}; charset=utf-7",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    assert not Corpus.objects.exists()
