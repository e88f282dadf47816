"""Alpha per document and per period (week or batch of units) of one dimension."""

from __future__ import annotations

import numpy as np

from annotator.agreement.coded import (
    Coded,
    code_integers,
    floor_to_monday,
    grouped_alpha,
    grouped_alpha_arrays,
)
from annotator.agreement_report.records import GroupRow
from annotator.ratings import LabelArrays

OVER = ("week", "batch")


def document_rows(
    coded: Coded, data: LabelArrays, level: str, limit: int | None
) -> tuple[list[GroupRow], int]:
    """Alpha within each document with pairable units: the ``limit`` worst, and how
    many there are. Undefined alphas sort last; ties put bigger documents first."""
    if data.document is None or len(coded.unit) == 0:
        return [], 0
    doc_labels, doc_codes = code_integers(data.document)
    arrays = grouped_alpha_arrays(coded, doc_codes.ravel(), len(doc_labels), level)
    used = np.flatnonzero(arrays.n_units > 0)
    value = arrays.value[used]
    undefined = ~np.isfinite(value)
    order = used[
        np.lexsort((-arrays.n_units[used], np.where(undefined, 0.0, value), undefined))
    ]
    if limit:
        order = order[:limit]
    rows = [GroupRow(int(doc_labels[i]), "", arrays.result(int(i))) for i in order]
    return rows, len(used)


def period_rows(
    coded: Coded, data: LabelArrays, level: str, over: str, batch_size: int
) -> list[GroupRow]:
    """Alpha per week (or batch of units) in which each unit's coding was completed.

    A unit belongs to the period of its last rating, so the two codings of a
    span made a week apart stay one unit instead of two single-coded ones.
    """
    if len(coded.unit) == 0:
        return []
    done = np.full(coded.n_units, -np.inf)
    np.maximum.at(done, coded.unit, np.nan_to_num(data.time, nan=-np.inf))
    if over == "batch":
        rank = np.empty(coded.n_units, dtype=np.int64)
        rank[np.argsort(done, kind="stable")] = np.arange(coded.n_units)
        unit_group = rank // batch_size
        labels = list(range(int(unit_group.max()) + 1))
        results = grouped_alpha(coded, unit_group[coded.unit], labels, level)
        size = np.bincount(unit_group)
        return [
            GroupRow(
                b,
                f"units {b * batch_size + 1}–{b * batch_size + int(size[b])}",
                r,
            )
            for b, r in results.items()
        ]
    seconds = np.where(np.isfinite(done), done, 0.0)
    mondays = floor_to_monday((seconds * 1e9).astype("datetime64[ns]"))
    day_labels, week_codes = code_integers(mondays.astype(np.int64))
    keys = [d.item() for d in day_labels.astype("datetime64[D]")]
    results = grouped_alpha(coded, week_codes.ravel()[coded.unit], keys, level)
    return [GroupRow(d, f"week of {d:%Y-%m-%d}", r) for d, r in results.items()]
