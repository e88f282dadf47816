"""Reference items read from CSV or JSONL and checked against a project, line by line.

The row shape is services.codings_reading's, with ``use`` (practice, test or
check) and ``explanation`` in place of ``coder``: one row is one code, naming the
span (``span_id``, or ``document_id`` or ``document_title`` with ``span_index``),
the ``dimension`` (its key) and the ``category`` (its key, or ``value``: its
numeric value). A span's rows make one item; its use and explanation may be given
on any of them, but never two different ones. The codes are checked by the same
validator as a submit, against the project's codebook version. Every problem
names the file, line and field (codings_reading's helpers and words); nothing
here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError

from annotator.models import Project, ReferenceItem
from annotator.services.codings_reading import (
    Problems,
    Row,
    _category_key,
    locate_spans,
    read_rows,
)
from annotator.services.labels import codebook_dimensions, resolve_against
from corpus.models import Span
from corpus.text import shown

FIELDS = (
    "span_id",
    "document_id",
    "document_title",
    "span_index",
    "use",
    "dimension",
    "category",
    "value",
    "explanation",
)
USES = ReferenceItem.Use.values
# A reference set is read whole, in the request: a few thousand rows at most.
MAX_ROWS = 50_000


@dataclass(slots=True)
class Entry:
    """One span's reference codes, as the file gives them."""

    line: int  # the first row's
    span_id: int
    use: str = ""
    explanation: str = ""
    labels: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)  # checked, all dims


def codes_of(dimensions: dict, resolved) -> dict[str, list[str]]:
    """Resolved labels as {dimension key: sorted category keys}, every dimension
    of the codebook present (an optional one left empty is [])."""
    codes: dict[str, list[str]] = {key: [] for key in dimensions}
    for _, category in resolved:
        codes[category.dimension.key].append(category.key)
    return {key: sorted(keys) for key, keys in codes.items()}


def _in_corpus(project: Project, rows: list[Row], problems: Problems) -> None:
    """A span_id given in the file must be a span of the project's corpus."""
    given = {
        r.span_id for r in rows if r.span_id is not None and r.fields.get("span_id")
    }
    found = set(
        Span.objects.filter(
            pk__in=given, document__corpus_id=project.corpus_id
        ).values_list("pk", flat=True)
    )
    for row in rows:
        given_here = row.fields.get("span_id") and row.span_id is not None
        if given_here and row.span_id not in found:
            problems.add(
                row.line,
                "span_id",
                f"span {row.span_id} is not in this project's corpus.",
            )
            row.span_id = None


def _same(entry: Entry, name: str, row: Row, problems: Problems) -> None:
    """The entry's use or explanation: the first given; a different one refused."""
    value = row.fields.get(name, "")
    if not value:
        return
    if name == "use" and value not in USES:
        problems.add(
            row.line, "use", f"'{shown(value)}' is not a use; give {', '.join(USES)}."
        )
        return
    current = getattr(entry, name)
    if current and current != value:
        problems.add(
            row.line,
            name,
            f"span {entry.span_id} was given another {name} on line {entry.line}.",
        )
    elif not current:
        setattr(entry, name, value)


def read_reference(project: Project, stream: BinaryIO, name: str) -> list[Entry]:
    """The file's reference items, every one checked; a ValidationError listing
    each problem (file, line and field) if any is wrong."""
    problems = Problems(name)
    dimensions = codebook_dimensions(project.codebook_id)
    rows = []
    for row in read_rows(stream, name, problems, FIELDS):
        rows.append(row)
        if len(rows) > MAX_ROWS:
            problems.add(row.line, "file", f"more than {MAX_ROWS:,} rows; split it.")
            problems.stop()
    locate_spans(project, rows, problems)
    _in_corpus(project, rows, problems)
    entries: dict[int, Entry] = {}
    for row in rows:
        dimension = dimensions.get(row.fields.get("dimension", ""))
        if dimension is None:
            problems.add(
                row.line,
                "dimension",
                f"'{shown(row.fields.get('dimension', ''))}' "
                "is not a dimension of this project's codebook.",
            )
        key = _category_key(dimension, row, problems) if dimension else None
        if row.span_id is None:
            continue
        entry = entries.setdefault(row.span_id, Entry(row.line, row.span_id))
        _same(entry, "use", row, problems)
        _same(entry, "explanation", row, problems)
        if key is not None:
            entry.labels.setdefault(dimension.key, []).append(key)
    if not rows and not problems.messages:
        problems.add(1, "file", "no reference items in it.")
    for entry in entries.values():
        if not entry.use:
            problems.add(
                entry.line, "use", f"span {entry.span_id}: give {', '.join(USES)}."
            )
        try:
            entry.codes = codes_of(
                dimensions, resolve_against(dimensions, entry.labels)
            )
        except ValidationError as error:
            for dimension_key, messages in error.message_dict.items():
                problems.add(
                    entry.line,
                    "dimension",
                    f"'{dimension_key}' of span {entry.span_id}: {' '.join(messages)}",
                )
    problems.stop()
    return list(entries.values())
