"""Gold labels: the project's rules on its ratings, and reviewers' decisions.

Each label is stored with how it was reached.

Public interface (pages, API, exports and commands call these):

* ``refresh_gold(project, by=...)``: brings the automatic gold labels up to date
  with the annotations; a no-op (three small indexed queries) when nothing
  changed since the last run. Never touches adjudicated labels. Requests do not
  call it: they ask ``annotator.services.jobs`` for a refresh in a worker and
  read the last finished gold, saying how fresh it is.
* ``gold_is_fresh(project)`` (the same cheap check), ``gold_freshness(project)``
  (the check and the gold's age at once) and ``gold_as_of(project)``.
* ``adjudicate(project, span, dimension, categories, reviewer=..., note=...)``:
  a reviewer's decision, with its revision history; ``settle_span`` decides every
  dimension of a span at once (the adjudication screen's submit).
* ``adjudication_queue(project, below=...)``: the spans waiting for a reviewer,
  in priority order.

Ratings are read as numpy arrays by ``annotator.ratings`` (dimensions
and categories matched by key across codebook versions, as the agreement figures
are), aggregated by ``annotator.gold_maths`` and written in bulk through staging
tables (COPY on PostgreSQL), so a million spans is one pass of each.

Modules: ``aggregate`` (the rules on one dimension's arrays, provenance),
``store`` (bulk writes through staging tables), ``refresh`` (freshness check
and ``refresh_gold``), ``adjudication`` (reviewers' writes), ``disputes`` (what a
reviewer reads of one span) and ``queue``.
"""

from annotator.gold.adjudication import (
    adjudicate,
    gold_state,
    settle_span,
    span_codes,
)
from annotator.gold.queue import adjudication_queue
from annotator.gold.refresh import (
    gold_as_of,
    gold_freshness,
    gold_is_fresh,
    refresh_gold,
)

__all__ = [
    "adjudicate",
    "adjudication_queue",
    "gold_as_of",
    "gold_freshness",
    "gold_is_fresh",
    "gold_state",
    "refresh_gold",
    "settle_span",
    "span_codes",
]
