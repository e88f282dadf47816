"""A span in its document: the span, its document and its nearest codable neighbours.

One function and one behaviour for every screen and the API: the coding screen, the
adjudication screen and the claim endpoint show the same neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.db import fetch_rows, from_row
from corpus.models import Document, Span

# Codable spans shown on each side. Excluded spans (page chrome, bylines) are never
# shown, however many lie in between: they are noise next to the text being coded.
CONTEXT_SPANS = 2
MAX_INDEX = 2**31 - 1  # Span.index is an integer column

# A span, its document, and the n codable spans on either side, in reading order:
# one query, one index range. The bounds are the nth codable span before and after
# (LIMIT/OFFSET subqueries, evaluated once), so excluded spans in between cost a
# row each and the document's length costs nothing.
SPAN_IN_CONTEXT = """
WITH this AS (SELECT id, document_id, "index" FROM corpus_span WHERE id = %(span)s),
bounds AS (
    SELECT this.id, this.document_id,
        COALESCE((
            SELECT b."index" FROM corpus_span AS b
            WHERE b.document_id = this.document_id AND NOT b.excluded
              AND b."index" < this."index"
            ORDER BY b."index" DESC LIMIT 1 OFFSET %(skip)s
        ), -1) AS low,
        COALESCE((
            SELECT a."index" FROM corpus_span AS a
            WHERE a.document_id = this.document_id AND NOT a.excluded
              AND a."index" > this."index"
            ORDER BY a."index" LIMIT 1 OFFSET %(skip)s
        ), %(max)s) AS high
    FROM this
)
SELECT s.id, s."index", s.start, s."end", s.text,
       d.id, d.title, d.source, d.published
FROM bounds
JOIN corpus_span AS s ON s.document_id = bounds.document_id
    AND s."index" >= bounds.low AND s."index" <= bounds.high
JOIN corpus_document AS d ON d.id = bounds.document_id
WHERE s.id = bounds.id OR NOT s.excluded
ORDER BY s."index"
"""


@dataclass(frozen=True)
class SpanInContext:
    span: Span  # with its document (id, title, source, published) loaded
    before: list[Span]  # the codable spans before it, in reading order
    after: list[Span]

    def payload(self) -> tuple[dict, dict]:
        """(the span with its document, {"before": [...], "after": [...]}) as the
        claim endpoint answers them (SpanSerializer, ContextSerializer)."""
        span, document = self.span, self.span.document
        return (
            {
                "id": span.pk,
                "document": {
                    "id": document.pk,
                    "title": document.title,
                    "source": document.source,
                    "published": document.published,
                },
                "index": span.index,
                "start": span.start,
                "end": span.end,
                "text": span.text,
            },
            {
                side: [{"id": s.pk, "index": s.index, "text": s.text} for s in spans]
                for side, spans in (("before", self.before), ("after", self.after))
            },
        )


def span_in_context(span_id: int, n: int = CONTEXT_SPANS) -> SpanInContext | None:
    """The span, its document and the n nearest codable spans on each side, in one
    query; None if there is no such span. Only what is shown is read: never the
    document's text, which may be long."""
    rows = fetch_rows(
        SPAN_IN_CONTEXT, {"span": span_id, "skip": max(n - 1, 0), "max": MAX_INDEX}
    )
    before: list[Span] = []
    after: list[Span] = []
    side, span = before, None
    for pk, index, start, end, text, document_id, title, source, published in rows:
        row = from_row(
            Span, id=pk, document_id=document_id, index=index, start=start, end=end,
            text=text,
        )  # fmt: skip
        if pk == span_id:
            row.document = from_row(
                Document, id=document_id, title=title, source=source,
                published=published,
            )  # fmt: skip
            span, side = row, after
        elif n > 0:
            side.append(row)
    if span is None:
        return None
    return SpanInContext(span, before, after)
