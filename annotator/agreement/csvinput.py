"""Reading ratings from CSV and producing the standard coefficient summary.

The CSV is long format, one rating per row, with a header naming at least
the columns ``unit``, ``coder`` and ``value`` (extra columns are ignored).
Every error names the file, the line and the field so a user can fix the
upload without reading code.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from typing import IO, Any, NamedTuple

import numpy as np

from ._coding import RatingsInputError, _canonical_set, check_level, encode
from .alpha import alpha_from_parts, alpha_parts
from .interval_set import dimension_intervals
from .kappa import Weights, cohen_from_coded, kappa_family
from .metrics import agreement_weights, is_identity

REQUIRED = ("unit", "coder", "value")


class Ratings(NamedTuple):
    """Parallel rating columns as read from a CSV (unpacks as units, coders, values)."""

    units: np.ndarray
    coders: np.ndarray
    values: np.ndarray


def _open(path_or_file: str | os.PathLike | IO) -> tuple[IO[str], str, bool]:
    if isinstance(path_or_file, (str, os.PathLike)):
        name = os.fspath(path_or_file)
        return open(name, newline="", encoding="utf-8-sig"), name, True
    f = path_or_file
    name = str(getattr(f, "name", None) or "<ratings>")
    if isinstance(f.read(0), bytes):
        f = io.TextIOWrapper(f, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
    return f, name, False


def _object_array(items: list[Any]) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


class _Scale:
    """Membership test for a declared category scale, as ``encode`` matches it.

    A value belongs to the scale when its text equals a category's text or,
    when both parse as numbers, its number equals the category's number
    ("1.0" is on the scale "1,2,3").
    """

    def __init__(self, categories: Sequence[Any]):
        self.text = {str(c).strip() for c in categories}
        numbers = (_number(str(c)) for c in categories)
        self.numbers = {f for f in numbers if f is not None}
        self.shown = ",".join(str(c) for c in categories)

    def __contains__(self, value: str) -> bool:
        if value in self.text:
            return True
        f = _number(value)
        return f is not None and f in self.numbers


def _number(text: str) -> float | None:
    try:
        f = float(text)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _parse_value(text: str, level: str, where: str, scale: _Scale | None) -> Any:
    if level == "set":
        if not text:
            return frozenset()
        labels = [lab.strip() for lab in text.split("|")]
        if any(not lab for lab in labels):
            raise RatingsInputError(
                f"{where}: field 'value' has an empty label in {text!r}"
            )
        for lab in labels:
            if scale is not None and lab not in scale.text:
                raise RatingsInputError(
                    f"{where}: label {lab!r} is not one of the categories {scale.shown}"
                )
        return frozenset(labels)
    if scale is not None and text not in scale:
        raise RatingsInputError(
            f"{where}: value {text!r} is not one of the categories {scale.shown}"
        )
    return text


def read_ratings_csv(
    path_or_file: str | os.PathLike | IO,
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
) -> Ratings:
    """Read a long-format ``unit,coder,value`` CSV into parallel arrays, row-validated.

    Why: uploads are the main way ratings enter the tool, so errors must point
    at the exact spot ("ratings.csv, line 7: field 'value' is empty") instead
    of surfacing later as a wrong coefficient. Values stay text (the scale and
    numeric order are decided later, see ``summary``) except for
    ``level='set'``, where ``a|b`` becomes ``frozenset({'a', 'b'})``. Values
    need not be numbers at any level: interval/ratio alpha uses the numbers
    when every value is one, else positions on the ordered scale. With
    ``categories`` (the declared scale; labels for ``set``) a value off the
    scale is an error naming its line. A second rating of the same unit by the
    same coder is an error naming both lines. Blank lines are skipped.
    Formula sources: none (input handling only).
    """
    check_level(level)
    scale = None if categories is None else _Scale(categories)
    f, name, close = _open(path_or_file)
    try:
        return _read(f, name, level, scale)
    except UnicodeDecodeError as exc:
        raise RatingsInputError(f"{name}: not valid UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise RatingsInputError(f"{name}: malformed CSV ({exc})") from exc
    finally:
        if close:
            f.close()


def _read(f: IO[str], name: str, level: str, scale: _Scale | None) -> Ratings:
    reader = csv.reader(f)
    header: list[str] | None = None
    cols: dict[str, int] = {}
    units: list[str] = []
    coders: list[str] = []
    values: list[Any] = []
    seen: dict[tuple[str, str], int] = {}
    last = 0
    for row in reader:
        line, last = last + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}, line {line}"
        if header is None:
            header = [cell.strip() for cell in row]
            dupes = sorted({h for h in header if header.count(h) > 1 and h})
            if dupes:
                raise RatingsInputError(f"{where}: header repeats column(s) {dupes}")
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise RatingsInputError(
                    f"{where}: header is missing column(s) "
                    f"{', '.join(map(repr, missing))};"
                    f" expected a header with unit,coder,value"
                )
            cols = {c: header.index(c) for c in REQUIRED}
            continue
        if len(row) != len(header):
            raise RatingsInputError(
                f"{where}: expected {len(header)} fields, got {len(row)}"
            )
        fields = {c: row[i].strip() for c, i in cols.items()}
        for c in REQUIRED:
            # At the set level an empty value is a rating: the coder chose no
            # label (a missing rating has no row at all).
            if not fields[c] and not (c == "value" and level == "set"):
                raise RatingsInputError(f"{where}: field {c!r} is empty")
        key = (fields["unit"], fields["coder"])
        if key in seen:
            raise RatingsInputError(
                f"{name}, lines {seen[key]} and {line}: coder {key[1]!r} rated unit "
                f"{key[0]!r} twice"
            )
        seen[key] = line
        values.append(_parse_value(fields["value"], level, where, scale))
        units.append(key[0])
        coders.append(key[1])
    if header is None:
        raise RatingsInputError(
            f"{name}: file is empty; expected a header with unit,coder,value"
        )
    return Ratings(_object_array(units), _object_array(coders), _object_array(values))


def summary(
    units: Sequence[Any] | np.ndarray,
    coders: Sequence[Any] | np.ndarray,
    values: Sequence[Any] | np.ndarray,
    *,
    level: str = "nominal",
    weights: Weights = "identity",
    categories: Sequence[Any] | None = None,
    n_resamples: int | None = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """All standard coefficients for one variable, as a plain dict for views/exports.

    Why: one call gives the report table, computed from a single coding of
    the data so every coefficient sees the same scale. ``categories`` fixes the
    ordered scale (a value outside it raises ``RatingsInputError`` naming the
    value); otherwise the scale is the sorted set of values seen, in numeric
    order when all values parse as numbers ("1" < "2" < "10"), and
    interval/ratio alpha then uses the numbers. ``weights`` applies to percent
    agreement and the kappa family, never to alpha (whose metric is ``level``).
    With ``level='set'`` alpha uses MASI, and the kappa-type coefficients treat
    each distinct set as one category (identity weights only). Counts are
    those of alpha: units with >= 2 ratings, their ratings, distinct coders.
    ``gwet_ac1`` becomes ``gwet_ac2`` when weighted; ``cohen_kappa`` appears
    only with exactly two coders. Undefined coefficients are ``nan``.
    ``intervals`` are the report's (``dimension_intervals``, the method
    ``interval_methods`` names per coefficient; for the same data, encoded in
    the same order, and ``seed`` they are the report's numbers); a withheld
    one is None with its reason in ``interval_notes``. ``n_resamples=None``
    computes none.
    Sources: see ``krippendorff_alpha`` and the kappa module.
    """
    check_level(level)
    if level == "set":
        if not is_identity(weights):
            raise RatingsInputError(
                "set-valued ratings have no category order: use weights='identity'"
            )
        values = _object_array(
            [None if v is None else _canonical_set(v) for v in values]
        )
    coded = encode(units, coders, values, level=level, categories=categories)
    agreement_weights(weights, coded.q)  # validate before computing anything
    parts = alpha_parts(coded, level)
    alpha = alpha_from_parts(parts)
    family = kappa_family(coded, weights)
    coefficients: dict[str, float] = {
        "krippendorff_alpha": alpha.value,
        "percent_agreement": family["percent_agreement"].value,
        "fleiss_kappa": family["fleiss_kappa"].value,
        "conger_kappa": family["conger_kappa"].value,
        "scott_pi": family["scott_pi"].value,
        "gwet_ac1" if is_identity(weights) else "gwet_ac2": family["gwet"].value,
        "brennan_prediger": family["brennan_prediger"].value,
    }
    if coded.n_coders == 2:
        w = agreement_weights(weights, coded.q)
        coefficients["cohen_kappa"] = cohen_from_coded(coded, w, 0, 1).value
    out = {
        "n_units": alpha.n_units,
        "n_coders": alpha.n_coders,
        "n_pairable": alpha.n_pairable,
        "coefficients": coefficients,
    }
    if n_resamples is None:
        return out
    found = dimension_intervals(
        parts, weights, n_resamples=n_resamples, seed=seed, confidence=confidence
    )
    return {
        **out,
        "intervals": {
            name: [i.low, i.high] if i.holds else None
            for name, i in found.intervals.items()
        },
        "interval_methods": found.methods,
        "interval_notes": found.notes,
        "resampling": found.resampling,
        "resamples": found.n_resamples,
        "seed": found.seed,
        "confidence": found.confidence,
    }
