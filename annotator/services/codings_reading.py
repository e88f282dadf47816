"""Existing codings read from CSV or JSONL and checked against a project, line by line.

One row is one code: which span (``span_id``, or ``document_id`` or
``document_title`` with ``span_index``), which coder (``coder``: a username of one
of the project's coders), which dimension (``dimension``: its key) and which
category (``category``: its key, or ``value``: its numeric value). A coder's rows
for one span make one annotation, checked by the same validator as a submit
(services.labels, against one reading of the codebook for the whole file). The
rows are read as they come, a batch at a time. Every problem names its line and
field; up to MAX_ERRORS are collected, then reading stops. Nothing here writes.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import BinaryIO

from django.core.exceptions import ValidationError

from annotator.access import CODER
from annotator.models import Membership, Project, WorkItem
from annotator.services.labels import codebook_dimensions, resolve_against
from corpus.models import Document, Span
from corpus.text import shown

MAX_ERRORS = 20
BATCH = 5000
FIELDS = (
    "span_id",
    "document_id",
    "document_title",
    "span_index",
    "coder",
    "dimension",
    "category",
    "value",
)


class CodingsImportFailed(ValidationError):
    """The file cannot be imported: its problems, each naming line and field."""

    def __str__(self) -> str:
        return " ".join(self.messages)


@dataclass(slots=True)
class Row:
    line: int
    fields: dict[str, str]
    item_id: int | None = None
    span_id: int | None = None
    coder_id: int | None = None


@dataclass(slots=True)
class Coding:
    """A coder's codes of one span, as the file gives them."""

    line: int  # the first row's
    item_id: int
    span_id: int
    coder_id: int
    labels: dict[str, list[str]] = field(default_factory=dict)
    resolved: list = field(default_factory=list)  # (dimension id, Category)


class Problems:
    def __init__(self, name: str) -> None:
        self.name, self.messages = name, []

    def add(self, line: int, field_name: str, message: str) -> None:
        self.messages.append(
            f"{self.name}, line {line}, field '{field_name}': {message}"
        )
        if len(self.messages) >= MAX_ERRORS:
            self.stop()

    def stop(self) -> None:
        if self.messages:
            if len(self.messages) >= MAX_ERRORS:
                self.messages.append(f"Stopped after {MAX_ERRORS} problems.")
            raise CodingsImportFailed(self.messages)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected text or a number, got {shown(repr(value))}")
    return str(value).strip()


def read_rows(
    stream: BinaryIO, name: str, problems: Problems, fields: tuple = FIELDS
) -> Iterator[Row]:
    """The file's rows (CSV with a header, or JSONL when its name ends .jsonl);
    ``fields`` are the columns a row may have (training.reference_reading's differ)."""
    text = codecs.getreader("utf-8-sig")(stream, errors="strict")
    try:
        if name.lower().endswith((".jsonl", ".ndjson")):
            yield from _jsonl_rows(text, problems, fields)
        else:
            yield from _csv_rows(text, problems, fields)
    except UnicodeDecodeError as error:
        problems.add(0, "file", f"not UTF-8 text ({error.reason}).")


def _csv_rows(text: io.TextIOBase, problems: Problems, fields) -> Iterator[Row]:
    reader = csv.DictReader(text)
    unknown = [h for h in reader.fieldnames or () if h and h not in fields]
    if not reader.fieldnames or unknown:
        what = f"unknown column '{shown(unknown[0])}'" if unknown else "no header"
        problems.add(1, "header", f"{what}; the columns are {', '.join(fields)}.")
        return
    for values in reader:
        yield Row(reader.line_num, {k: (v or "").strip() for k, v in values.items()})


def _jsonl_rows(text: io.TextIOBase, problems: Problems, names) -> Iterator[Row]:
    for line, raw in enumerate(text, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except ValueError as error:
            problems.add(line, "line", f"not JSON ({error}).")
            continue
        if not isinstance(data, dict):
            problems.add(line, "line", "not a JSON object.")
            continue
        fields = {}
        for key, value in data.items():
            if key not in names:
                problems.add(line, shown(key), f"not a field; use {', '.join(names)}.")
                continue
            try:
                fields[key] = _text(value)
            except ValueError as error:
                problems.add(line, key, f"{error}.")
        yield Row(line, fields)


def _whole(row: Row, name: str, problems: Problems) -> int | None:
    value = row.fields.get(name, "")
    # ASCII digits only ("²" is a digit to Python), and within a database's bigint.
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        problems.add(row.line, name, f"'{shown(value)}' is not a whole number.")
        return None
    return int(value)


def _locate(project: Project, rows: list[Row], problems: Problems) -> None:
    """Each row's span and work item in the project (its queue)."""
    locate_spans(project, rows, problems)
    spans = [r.span_id for r in rows if r.span_id is not None]
    items: dict[int, int] = {}
    for at in range(0, len(spans), BATCH):
        items.update(
            WorkItem.objects.filter(
                project=project, span_id__in=spans[at : at + BATCH]
            ).values_list("span_id", "id")
        )
    for row in rows:
        if row.span_id is not None:
            row.item_id = items.get(row.span_id)
            if row.item_id is None:
                field_name = "span_id" if row.fields.get("span_id") else "span_index"
                problems.add(
                    row.line,
                    field_name,
                    f"span {row.span_id} is not one this project codes.",
                )


def locate_spans(project: Project, rows: list[Row], problems: Problems) -> None:
    """Each row's span id: as given (``span_id``, not yet checked), or looked up in
    the project's corpus by document (id or title) and ``span_index``."""
    by_title: dict[str, list[int]] = {}
    titles = sorted(
        {r.fields["document_title"] for r in rows if r.fields.get("document_title")}
    )
    for at in range(0, len(titles), BATCH):
        for title, pk in Document.objects.filter(
            corpus_id=project.corpus_id, title__in=titles[at : at + BATCH]
        ).values_list("title", "id"):
            by_title.setdefault(title, []).append(pk)
    wanted: dict[tuple[int, int], list[Row]] = {}
    for row in rows:
        f = row.fields
        if f.get("span_id"):
            row.span_id = _whole(row, "span_id", problems)
            continue
        if f.get("document_title") and not f.get("document_id"):
            ids = by_title.get(f["document_title"], [])
            if len(ids) != 1:
                problems.add(
                    row.line,
                    "document_title",
                    f"{'no' if not ids else len(ids)} documents titled "
                    f"'{shown(f['document_title'])}' in this project's corpus"
                    + ("; use document_id." if ids else "."),
                )
                continue
            document_id = ids[0]
        elif f.get("document_id"):
            document_id = _whole(row, "document_id", problems)
        else:
            problems.add(
                row.line,
                "span_id",
                "give span_id, or document_id (or document_title) and span_index.",
            )
            continue
        index = _whole(row, "span_index", problems)
        if document_id is not None and index is not None:
            wanted.setdefault((document_id, index), []).append(row)
    keys = list(wanted)
    for at in range(0, len(keys), BATCH):
        batch = keys[at : at + BATCH]
        for document_id, index, span_id in Span.objects.filter(
            document__corpus_id=project.corpus_id,
            document_id__in={d for d, _ in batch},
            index__in={i for _, i in batch},
        ).values_list("document_id", "index", "id"):
            for row in wanted.get((document_id, index), []):
                row.span_id = span_id
    for group in wanted.values():
        for row in group:
            if row.span_id is None:  # a document and index that name no span
                problems.add(row.line, "span_index", "no such span in that document.")


def _category_key(dimension, row: Row, problems: Problems) -> str | None:
    f = row.fields
    if f.get("category"):
        if f["category"] not in dimension.category_map:
            problems.add(
                row.line,
                "category",
                f"'{shown(f['category'])}' is not a "
                f"category of dimension '{dimension.key}'.",
            )
            return None
        return f["category"]
    try:
        value = float(f.get("value", ""))
    except ValueError:
        problems.add(row.line, "category", "give a category key (or its value).")
        return None
    keys = [k for k, c in dimension.category_map.items() if c.value == value]
    if len(keys) != 1:
        problems.add(
            row.line,
            "value",
            f"{f['value']} is the value of "
            f"{len(keys) or 'no'} categories of '{dimension.key}'.",
        )
        return None
    return keys[0]


def read_codings(
    project: Project,
    stream: BinaryIO,
    name: str,
    progress: Callable[[int], None] | None = None,
) -> list[Coding]:
    """The file's codings, every one checked; CodingsImportFailed if any is wrong.

    The rows are read from the stream as they come, BATCH at a time (looked up,
    folded into codings, then dropped): memory holds one batch of rows and the
    codings, never the file. ``progress`` is told how many rows have been read
    after each batch.
    """
    problems = Problems(name)
    coders = dict(
        Membership.objects.filter(project=project, role=CODER).values_list(
            "user__username", "user_id"
        )
    )
    dimensions = codebook_dimensions(project.codebook_id)
    codings: dict[tuple[int, int], Coding] = {}
    rows = read_rows(stream, name, problems)
    read = 0
    while batch := list(islice(rows, BATCH)):
        _locate(project, batch, problems)
        for row in batch:
            _fold(row, coders, dimensions, codings, problems)
        read += len(batch)
        if progress is not None:
            progress(read)
    if not read and not problems.messages:
        problems.add(1, "file", "no codings in it.")
    for coding in codings.values():
        try:
            coding.resolved = resolve_against(dimensions, coding.labels)
        except ValidationError as error:
            for dimension_key, messages in error.message_dict.items():
                problems.add(
                    coding.line,
                    "dimension",
                    f"'{dimension_key}' of span {coding.span_id}: {' '.join(messages)}",
                )
    problems.stop()
    return list(codings.values())


def _fold(
    row: Row,
    coders: dict[str, int],
    dimensions: dict,
    codings: dict[tuple[int, int], Coding],
    problems: Problems,
) -> None:
    """Check one row's coder, dimension and category; add its code to its coding."""
    f = row.fields
    row.coder_id = coders.get(f.get("coder", ""))
    if row.coder_id is None:
        problems.add(
            row.line,
            "coder",
            f"'{shown(f.get('coder', ''))}' is not a "
            "coder of this project; add them on the Members page.",
        )
    dimension = dimensions.get(f.get("dimension", ""))
    if dimension is None:
        problems.add(
            row.line,
            "dimension",
            f"'{shown(f.get('dimension', ''))}' "
            "is not a dimension of this project's codebook.",
        )
        return
    key = _category_key(dimension, row, problems)
    if key is None or row.coder_id is None or row.item_id is None:
        return
    coding = codings.setdefault(
        (row.span_id, row.coder_id),
        Coding(row.line, row.item_id, row.span_id, row.coder_id),
    )
    coding.labels.setdefault(dimension.key, []).append(key)
