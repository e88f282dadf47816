"""Finding documents and corpora by words in title, outlet and text (corpus/search.py).

On either database; the ILIKE fast path agrees with its portable twin; the pages.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from corpus.db import portable
from corpus.models import Corpus, Document
from corpus.search import search_corpora, search_documents
from tests.factories import CorpusFactory, DocumentFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def library():
    news = CorpusFactory(name="News wires")
    blogs = CorpusFactory(name="Blogs")
    docs = {
        "putin": DocumentFactory(
            corpus=news, title="Putin hopes for change", source="TASS",
            text="The Kremlin said talks could resume.",
        ),
        "trade": DocumentFactory(
            corpus=news, title="Trade figures", source="Reuters",
            text="Exports rose 5% in March; putin_watchers were silent.",
        ),
        "blog": DocumentFactory(
            corpus=blogs, title="Ein Blog über Politik", source="tass-fan",
            text="Nothing about PUTIN here, only 50_50 odds.",
        ),
    }  # fmt: skip
    return docs


def found(query: str, where: str = "") -> set[str]:
    titles = {
        "Putin hopes for change": "putin",
        "Trade figures": "trade",
        "Ein Blog über Politik": "blog",
    }
    documents = search_documents(Document.objects.all(), query, where)
    return {titles[d.title] for d in documents}


CASES = [
    ("putin", "", {"putin", "trade", "blog"}),  # title, text, any case
    ("putin", "title", {"putin"}),
    ("TASS", "outlet", {"putin", "blog"}),
    ("tass kremlin", "", {"putin"}),  # every word, each in any field
    ("5%", "", {"trade"}),  # % and _ are letters, not wildcards
    ("0_5", "", {"blog"}),
    ("e_f", "", set()),  # a wildcard _ would match "Trade figures"
    ("über", "title", {"blog"}),
    ("", "", {"putin", "trade", "blog"}),  # no words: everything
    ("missing", "", set()),
]


@pytest.mark.parametrize(("query", "where", "want"), CASES)
def test_search_finds_every_word_in_the_chosen_fields(library, query, where, want):
    assert found(query, where) == want


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "where", "want"), CASES)
def test_ilike_fast_path_finds_what_its_portable_twin_finds(
    library, query, where, want
):
    fast = found(query, where)
    with portable("document-search-ilike"):
        assert found(query, where) == fast == want


def test_corpora_match_by_name_or_by_a_document(library):
    corpora = Corpus.objects.all()
    assert {c.name for c in search_corpora(corpora, "wires")} == {"News wires"}
    assert {c.name for c in search_corpora(corpora, "odds")} == {"Blogs"}
    assert {c.name for c in search_corpora(corpora, "putin")} == {"News wires", "Blogs"}


def test_corpus_list_search_page_and_partial(manager_client, library):
    url = reverse("corpus-list") + "?q=kremlin"
    page = manager_client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    assert 'role="search"' in page.text and "Putin hopes for change" in page.text
    assert "Trade figures" not in page.text
    part = manager_client.get(url, headers=HX)
    assert "<html" not in part.text
    assert part.text.lstrip().startswith('<section id="results"')
    assert "Putin hopes for change" in part.text and "News wires" in part.text


def test_corpus_detail_search_pages_keep_the_query(
    manager_client, library, django_assert_max_num_queries
):
    news = Corpus.objects.get(name="News wires")
    for i in range(55):
        DocumentFactory(corpus=news, title=f"Kremlin note {i}", source="TASS")
    url = news.get_absolute_url() + "?q=kremlin&where=title"
    # session, user, permissions, corpus, count, page
    with django_assert_max_num_queries(8):
        page = manager_client.get(url)
    assert "55 documents matching" in page.text
    assert "q=kremlin&amp;where=title&amp;page=2" in page.text
    assert "Putin hopes for change" not in page.text  # Kremlin is in its text only
    part = manager_client.get(url + "&page=2", headers=HX)
    assert part.text.lstrip().startswith('<section id="document-list"')
    assert "page 2 of 2" in part.text and "<html" not in part.text


def test_a_search_sees_only_the_managers_corpora(client, library, django_user_model):
    from annotator.demo import managers_group

    outsider = django_user_model.objects.create_user("someone-else")
    outsider.groups.add(managers_group())
    for corpus in Corpus.objects.all():
        corpus.created_by = django_user_model.objects.create_user(f"up-{corpus.pk}")
        corpus.save()
    client.force_login(outsider)
    page = client.get(reverse("corpus-list") + "?q=putin")
    assert "Putin hopes for change" not in page.text
    assert "0 documents" in page.text
