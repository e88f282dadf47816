"""The PostgreSQL fast-path switch: one place decides which twin of a query runs.

A fast path is code that only PostgreSQL can run (COPY, one-statement claims,
binary reads, PERCENTILE_CONT, parallel scans). Each has a portable twin that runs
on every database and must give the same result. Code asks

    if fast_path("gold-csv-copy"):
        ...PostgreSQL only...
    else:
        ...portable...

and tests run both on the same PostgreSQL data by calling the same public function
again inside ``with portable("gold-csv-copy"):``. Every name passed to
``fast_path`` must appear in a ``portable("name")`` of some test
(tests/test_fast_paths.py checks it), so a new fast path cannot land without its
equality test.

Both apps use it; it lives here because ``corpus`` must not import ``annotator``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

# Names forced onto their portable twin ("*" forces every one). A plain module
# global, not a context variable: background threads (write-behind, parallel
# reads) must see what the test that started them asked for.
_FORCED_PORTABLE: set[str] = set()


def fast_path(name: str, db: BaseDatabaseWrapper | None = None) -> bool:
    """Whether to take the PostgreSQL fast path `name` on this connection."""
    db = db if db is not None else connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return False
    return name not in _FORCED_PORTABLE and "*" not in _FORCED_PORTABLE


@contextmanager
def portable(name: str = "*") -> Iterator[None]:
    """Run the portable twin of fast path `name` (default: of every one) inside."""
    added = name not in _FORCED_PORTABLE
    _FORCED_PORTABLE.add(name)
    try:
        yield
    finally:
        if added:
            _FORCED_PORTABLE.discard(name)
