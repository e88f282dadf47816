"""Documents and corpora found by words in their title, outlet (source) or text.

Every word must occur (case-insensitively, anywhere inside) in one of the fields
searched, so `putin tass` finds a TASS piece that names Putin. On the
"document-search-ilike" fast path PostgreSQL matches with ILIKE, which the
trigram indexes on title and outlet (migration 0003, pg_trgm) answer without
reading every row; the portable twin is Django's icontains (UPPER … LIKE UPPER …,
which no index serves). tests/corpus/test_search.py pins that both find the same.
"""

from __future__ import annotations

from functools import reduce
from operator import and_, or_

from django.db.models import Exists, F, Lookup, OuterRef, Q, QuerySet, Value

from corpus.db import fast_path
from corpus.models import Corpus, Document

FIELDS = {"title": "title", "outlet": "source", "text": "text"}
WHERE = [("", "anywhere"), ("title", "title"), ("outlet", "outlet"), ("text", "text")]
MAX_WORDS = 8  # a query past this is cut: each word is a pass over the fields


class ILike(Lookup):
    """`field ILIKE pattern` (PostgreSQL): what a gin_trgm_ops index serves."""

    lookup_name = "ilike"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def words_of(query: str) -> list[str]:
    return query.split()[:MAX_WORDS]


def _contains(field: str, word: str) -> Q:
    if fast_path("document-search-ilike"):
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return Q(ILike(F(field), Value(f"%{escaped}%")))
    return Q(**{f"{field}__icontains": word})


def matching(query: str, where: str = "") -> Q | None:
    """The documents where every word of `query` occurs in a searched field
    (`where`: one of FIELDS' names, or every field); None for no words."""
    fields = [FIELDS[where]] if where else list(FIELDS.values())
    words = words_of(query)
    if not words:
        return None
    return reduce(
        and_, (reduce(or_, (_contains(f, word) for f in fields)) for word in words)
    )


def search_documents(
    documents: QuerySet[Document], query: str, where: str = ""
) -> QuerySet[Document]:
    """`documents` narrowed to those matching `query` (all of them for no words)."""
    condition = matching(query, where)
    return documents if condition is None else documents.filter(condition)


def search_corpora(
    corpora: QuerySet[Corpus], query: str, where: str = ""
) -> QuerySet[Corpus]:
    """Corpora whose name has every word, or holding a document that matches."""
    condition = matching(query, where)
    if condition is None:
        return corpora
    by_name = reduce(and_, (Q(name__icontains=word) for word in words_of(query)))
    documents = Document.objects.filter(condition, corpus=OuterRef("pk"))
    return corpora.filter(by_name | Exists(documents))
