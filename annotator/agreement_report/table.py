"""The report as flat rows, one per coefficient of a dimension or a breakdown (CSV)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from annotator.agreement import AgreementResult

from .records import DimensionReport, ProjectReport

COLUMNS = (
    "codebook_version",
    "dimension",
    "level",
    "breakdown",  # overall, category, document, period, coder or coder_pair
    "key",  # the category key, document id, period, coder or "coder|coder"
    "label",  # its label, title or username(s)
    "coefficient",
    "value",
    "ci_low",
    "ci_high",
    "n_units",
    "n_pairable",
    "excluded_units",
    "n_coders",
)


def number(value: Any) -> Any:
    """A figure as a cell: undefined (nan, None) is empty, numpy scalars plain."""
    if value is None:
        return ""
    value = value.item() if hasattr(value, "item") else value
    return "" if isinstance(value, float) and not math.isfinite(value) else value


def report_rows(report: ProjectReport) -> Iterator[list[Any]]:
    """Every figure of the report as a row of COLUMNS, dimension by dimension:
    the overall coefficients (with their 95% intervals where they hold), then
    alpha per category, per document, per period, each coder's agreement and
    alpha without them, and Cohen's kappa of each pair of coders."""
    for dimension in report.dimensions:
        for row in dimension_rows(dimension):
            yield [report.codebook_version, dimension.key, dimension.level, *row]


def _result(r: AgreementResult, low: Any = None, high: Any = None) -> list[Any]:
    return [
        r.coefficient,
        *map(number, (r.value, low, high)),
        r.n_units,
        r.n_pairable,
        r.excluded_units,
        r.n_coders,
    ]


def dimension_rows(d: DimensionReport) -> Iterator[list[Any]]:
    """One dimension's rows from `breakdown` on (COLUMNS without the first three)."""
    for name, r in d.coefficients.items():
        low, high = d.intervals.get(name, (None, None))
        if not d.interval_holds(name):
            low = high = None
        yield ["overall", "", "", name, *_result(r, low, high)[1:]]
    for key, label, r in d.per_category:
        yield ["category", key, label, *_result(r)]
    for row in d.documents:
        yield ["document", row.key, row.label, *_result(row.result)]
    for row in d.over_time:
        yield ["period", row.label, row.label, *_result(row.result)]
    for coder in d.coders:
        stats = coder.stats
        shared = [stats.n_shared_units, "", "", ""]
        yield ["coder", coder.user_id, coder.username, "percent_agreement",
               number(stats.percent_agreement), "", "", *shared]  # fmt: skip
        yield ["coder", coder.user_id, coder.username, "alpha_without",
               number(stats.alpha_without), "", "", *shared]  # fmt: skip
    names = d.pairwise.row_labels
    counts = d.pairwise.counts
    for i, first in enumerate(names):
        for j in range(i + 1, len(names)):
            second = names[j]
            shared = counts[i, j] if counts is not None else ""
            yield ["coder_pair", f"{first}|{second}", f"{first} and {second}",
                   "cohen_kappa", number(d.pairwise.matrix[i, j]), "", "",
                   number(shared), "", "", 2]  # fmt: skip
