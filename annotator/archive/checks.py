"""An archived row's fields checked before anything is stored: types, shapes, sense.

The admin's form would refuse a title that is a dict, a count that is 12.5 or
"7", a share that is NaN: Django's to_python coerces all of those instead, so a
restore checks each value's JSON type against its field first (typed_value),
then JSON fields' shapes (SHAPES), then what only other rows can say: a label's
category belongs to its dimension, its span and coder are its assignment's, a
span's offsets fall inside its document (Consistency). Validators, choices and the
models' own clean() run after, in restoring.py, as the admin runs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

from annotator.archive.tables import TABLE_BY_NAME
from annotator.models import (
    Annotation,
    Assignment,
    Category,
    CheckAnswer,
    DesignChange,
    GoldLabel,
    GoldLabelCategory,
    GoldLabelRevision,
    GoldRun,
    Label,
    ReferenceItem,
    TrainingAnswer,
    TrainingAttempt,
    WorkItem,
)
from annotator.models.annotations import AnnotationRevision
from annotator.models.projects import gold_methods_problem
from corpus.models import Document, Span
from corpus.text import unstorable


class Problem(Exception):
    """One field's value is wrong: the restorer adds the line and table."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


INTEGERS = (models.IntegerField, models.AutoField)


def typed_value(f: models.Field, value: Any) -> Any:
    """`value` as field `f` stores it; Problem when its JSON type is not the
    field's (no coercion: "7" is not a number, 12.5 not a whole one)."""
    if value is None:
        if f.null:
            return None
        raise Problem(f.attname, f"{_expected(f)}, got null.")
    if f.is_relation:
        if f.related_model is get_user_model():
            if isinstance(value, str):
                return value
            raise Problem(f.attname, f"expected a username, got {_kind(value)}.")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise Problem(f.attname, f"expected a row id, got {_kind(value)}.")
    if isinstance(f, models.JSONField):
        json_problem(value, f.attname)
        return value
    if isinstance(f, models.BooleanField):
        ok = isinstance(value, bool)
    elif isinstance(f, INTEGERS):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(f, models.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise Problem(f.attname, f"{value!r} is not a finite number.")
    elif isinstance(f, models.CharField | models.TextField):
        ok = isinstance(value, str)
        if ok and (bad := unstorable(value)):
            raise Problem(f.attname, bad)
    elif isinstance(f, models.DateTimeField):
        try:
            parsed = f.to_python(value) if isinstance(value, str) else None
        except ValidationError:
            parsed = None
        ok = isinstance(parsed, datetime) and parsed.tzinfo is not None
        value = parsed if ok else value
    else:  # a field kind the archive does not hold yet: the model's own parser
        try:
            return f.to_python(value)
        except ValidationError as exc:
            raise Problem(f.attname, " ".join(exc.messages)) from None
    if not ok:
        raise Problem(f.attname, f"{_expected(f)}, got {_kind(value)}.")
    return value


def _expected(f: models.Field) -> str:
    if isinstance(f, models.BooleanField):
        return "expected true or false"
    if isinstance(f, INTEGERS):
        return "expected a whole number"
    if isinstance(f, models.FloatField):
        return "expected a number"
    if isinstance(f, models.DateTimeField):
        return "expected a date and time with its offset (ISO 8601)"
    if f.is_relation:
        user = f.related_model is get_user_model()
        return "expected a username" if user else "expected a row id"
    return "expected text"


def _kind(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def json_problem(value: Any, field: str) -> None:
    """JSON any database stores alike: no NaN or Infinity (PostgreSQL refuses
    them, SQLite keeps them), no NUL or lone surrogate in a key or a string.
    Depth is bounded before parsing (lines.py), so recursing is safe."""
    if isinstance(value, str):
        if bad := unstorable(value):
            raise Problem(field, bad)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Problem(field, f"{value!r} is not a finite number.")
    elif isinstance(value, dict):
        for key, item in value.items():
            json_problem(key, field)
            json_problem(item, field)
    elif isinstance(value, list):
        for item in value:
            json_problem(item, field)


# --- shapes of JSON fields ---------------------------------------------------------


def _object(of: Callable[[Any], str | None] | None = None) -> Callable:
    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"expected an object, got {_kind(value)}."
        for key, item in value.items():
            if of and (problem := of(item)):
                return f"at {key!r}: {problem}"
        return None

    return check


def _list_of_text(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"expected a list, got {_kind(value)}."
    for at, item in enumerate(value):
        if not isinstance(item, str):
            return f"entry {at + 1}: expected text, got {_kind(item)}."
    return None


def _number(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None
    return f"expected a number, got {_kind(value)}."


def _or_null(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


def _bool(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    return f"expected true or false, got {_kind(value)}."


def _whole(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"expected a whole number, got {_kind(value)}."


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"expected text, got {_kind(value)}."


def _fields(**checks: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """An object whose listed keys, where present, pass their checks (a key the
    writer adds later is let through, as the whole row's fields are not)."""

    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"expected an object, got {_kind(value)}."
        for key, of in checks.items():
            if key in value and (problem := of(value[key])):
                return f"{key}: {problem}"
        return None

    return check


# {dimension key: {alpha, percent, n, level, passed, reason}}: scoring.DimResult.
_DIM_RESULT = _fields(
    alpha=_or_null(_number),
    percent=_or_null(_number),
    n=_whole,
    level=_text,
    passed=_bool,
    reason=_text,
)


def _confusion(value: Any) -> str | None:
    """{"categories": [key, ...], "matrix": one row of numbers per category}."""
    if problem := _fields(categories=_list_of_text)(value):
        return problem
    categories, matrix = value.get("categories"), value.get("matrix")
    if categories is None or matrix is None:
        return "expected its categories and matrix."
    if not isinstance(matrix, list) or len(matrix) != len(categories):
        return f"matrix: expected {len(categories)} rows, one per category."
    for at, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != len(categories):
            return f"matrix row {at + 1}: expected {len(categories)} numbers."
        for cell in row:
            if problem := _number(cell):
                return f"matrix row {at + 1}: {problem}"
    return None


# The pass marks an attempt was scored against (training.rounds.thresholds).
_THRESHOLDS = _fields(
    min_alpha=_or_null(_number), min_percent=_or_null(_number), gate=_text
)

# Codes as a coder gives them: {dimension key: [category key, ...]}.
_CODES = _object(_list_of_text)
_MATCHED = _object(_bool)

# {(model, field): check}; Project.gold_methods is its model's clean() (run after).
SHAPES: dict[tuple[type[models.Model], str], Callable[[Any], str | None]] = {
    (Document, "metadata"): _object(),
    (Category, "examples"): _list_of_text,
    (Category, "typical_words"): _list_of_text,
    (DesignChange, "before"): _object(),
    (DesignChange, "after"): _object(),
    (GoldRun, "methods"): gold_methods_problem,
    (GoldRun, "coder_accuracy"): _object(_number),
    (GoldRun, "coder_confusion"): _object(_confusion),
    (GoldLabel, "coder_codes"): _object(_list_of_text),
    (AnnotationRevision, "old"): _object(),
    (AnnotationRevision, "new"): _object(),
    (GoldLabelRevision, "old"): _object(),
    (GoldLabelRevision, "new"): _object(),
    (ReferenceItem, "codes"): _CODES,
    (TrainingAttempt, "results"): _object(_DIM_RESULT),
    (TrainingAttempt, "thresholds"): _THRESHOLDS,
    (TrainingAnswer, "labels"): _or_null(_CODES),
    (TrainingAnswer, "matched"): _or_null(_MATCHED),
    (CheckAnswer, "labels"): _CODES,
    (CheckAnswer, "matched"): _MATCHED,
    # The machine coder's id is kept as it was: machine coders are not archived.
    (Annotation, "suggestion"): _or_null(_fields(machine_coder=_whole, labels=_CODES)),
}


def shape_problem(model: type[models.Model], field: str, value: Any) -> None:
    check = SHAPES.get((model, field))
    if check and (problem := check(value)):
        raise Problem(field, problem)


# --- agreement between rows ----------------------------------------------------------

# (field named when they disagree, a path, another path, what is wrong). A path
# starts at a field of the row and follows references: ("annotation_id",
# "assignment_id", "span_id") is the span of the assignment of the label's
# annotation. Rows are compared by their archived ids, before any is stored.
AGREE: dict[type[models.Model], tuple[tuple[str, tuple, tuple, str], ...]] = {
    WorkItem: (
        ("document_id", ("document_id",), ("span_id", "document_id"),
         "not the document of its span"),
    ),
    Assignment: (
        ("span_id", ("span_id",), ("work_item_id", "span_id"),
         "not the span of its work item"),
    ),
    Label: (
        ("category_id", ("category_id", "dimension_id"), ("dimension_id",),
         "a category of another dimension than the label's"),
        ("dimension_id", ("dimension_id", "codebook_id"),
         ("annotation_id", "codebook_id"),
         "a dimension of another codebook version than its annotation's"),
        ("span_id", ("span_id",), ("annotation_id", "assignment_id", "span_id"),
         "not the span of its annotation's assignment"),
        ("coder_id", ("coder_id",), ("annotation_id", "assignment_id", "coder_id"),
         "not the coder of its annotation's assignment"),
    ),
    GoldLabel: (
        ("category_id", ("category_id", "dimension_id"), ("dimension_id",),
         "a category of another dimension than the gold label's"),
        ("dimension_id", ("dimension_id", "codebook_id"), ("codebook_id",),
         "a dimension of another codebook version than the gold label's"),
    ),
    GoldLabelCategory: (
        ("category_id", ("category_id", "dimension_id"),
         ("gold_label_id", "dimension_id"),
         "a category of another dimension than its gold label's"),
    ),
}  # fmt: skip


def _field(model: type[models.Model], attname: str) -> models.Field:
    return next(f for f in model._meta.concrete_fields if f.attname == attname)


def _target(model: type[models.Model], attname: str) -> type[models.Model]:
    """The model a reference points at, loose keys (WorkItem.document_id) too."""
    loose = dict(TABLE_BY_NAME[model._meta.label_lower].loose_keys)
    return loose.get(attname) or _field(model, attname).related_model


def _facts() -> dict[type[models.Model], tuple[str, ...]]:
    """What to remember of each row a path passes through (its fields, by id)."""
    needed: dict[type[models.Model], set[str]] = {}
    for model, rules in AGREE.items():
        for _, *paths, _ in rules:
            for path in paths:
                at = model
                for step, name in enumerate(path):
                    if step:
                        needed.setdefault(at, set()).add(name)
                    if step < len(path) - 1:
                        at = _target(at, name)
    return {model: tuple(sorted(names)) for model, names in needed.items()}


FACTS = _facts()


class Consistency:
    """What the rows seen so far say about each other, kept compactly: a tuple of
    a few ids per row that a rule passes through (spans, assignments,
    annotations, categories...), keyed by archived id."""

    def __init__(self, document_text: Callable[[int], Document]):
        self.facts: dict[type[models.Model], dict[int, tuple]] = {
            model: {} for model in FACTS
        }
        self.document_text = document_text
        self.document: Document | None = None

    def remember(self, model: type[models.Model], old_id: int, fields: dict) -> None:
        if model in FACTS:
            self.facts[model][old_id] = tuple(fields[name] for name in FACTS[model])

    def _walk(self, model: type[models.Model], fields: dict, path: tuple) -> Any:
        value = fields[path[0]]
        at = model
        for previous, name in zip(path, path[1:], strict=False):
            if value is None:
                return None
            at = _target(at, previous)
            row = self.facts[at].get(value)
            if row is None:  # not in the archive: the mapping names it
                return None
            value = row[FACTS[at].index(name)]
        return value

    def check(self, model: type[models.Model], fields: dict) -> None:
        for field, left, right, problem in AGREE.get(model, ()):
            a, b = self._walk(model, fields, left), self._walk(model, fields, right)
            if a is not None and b is not None and a != b:
                raise Problem(field, f"{problem} ({a!r}, not {b!r}).")

    def check_span(self, span: Span) -> None:
        """Offsets inside the document and text equal to it there: Document's and
        Span's own rules, with the document read once for its run of spans."""
        if self.document is None or self.document.pk != span.document_id:
            self.document = self.document_text(span.document_id)
        span.document = self.document
        try:
            self.document.span_text(span.start, span.end)
        except ValidationError as exc:
            field = "start" if span.start > len(self.document.text) else "end"
            raise Problem(field, " ".join(exc.messages)) from None
        try:
            span.clean()
        except ValidationError as exc:
            raise Problem("text", " ".join(exc.messages)) from None
