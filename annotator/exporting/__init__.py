"""Gold labels and annotations as rows, and the CSV / JSONL writers that stream them.

Shared by the API (annotator/api/export.py: pages and streaming downloads) and the
`export_gold` command, so a file, a page and the command always carry the same
fields. Every row stands on its own: the span's document id and title, offsets and
text travel with the codes.

Rows come from one `values_list` query read through `.iterator()` (a server-side
cursor on PostgreSQL), multi-choice keys aggregated in the database, so memory stays
flat whatever the project's size and nothing queries per row.

    columns.py      one table per row kind (GOLD, ANNOTATION): every column's
                    name, query values (portable and COPY), JSON and CSV forms
    filters.py      which gold labels: GoldFilters from query parameters
    gold.py         gold rows, CSV cells, and the gold downloads
    annotations.py  annotation rows and CSV cells
    writers.py      csv_chunks (formula-safe cells unless raw), jsonl_chunks
    pg_copy.py      the PostgreSQL fast path: COPY writes the gold files
"""

from annotator.exporting.annotations import (
    annotation_csv_cells,
    annotation_csv_header,
    annotation_row,
    annotation_rows,
    annotation_values,
    annotations_of,
    dimension_keys,
)
from annotator.exporting.columns import (
    ANNOTATION,
    ANNOTATION_COLUMNS,
    ANNOTATION_VALUES,
    CHUNK_ROWS,
    GOLD,
    GOLD_COLUMNS,
    GOLD_VALUES,
    SEPARATOR,
    Column,
    IsoText,
    KeysAgg,
    Table,
    iso,
    parse_pairs,
    split_keys,
)
from annotator.exporting.filters import (
    GoldFilters,
    dimension_ids,
    gold_labels,
    parse_datetime_param,
    parse_gold_filters,
)
from annotator.exporting.gold import (
    gold_csv,
    gold_csv_cells,
    gold_jsonl,
    gold_row,
    gold_rows,
    gold_values,
)
from annotator.exporting.pg_copy import gold_copy_values
from annotator.exporting.writers import (
    FLUSH_CHARS,
    FORMULA_STARTS,
    csv_chunks,
    formula_safe,
    jsonl_chunks,
)

__all__ = [
    "ANNOTATION",
    "ANNOTATION_COLUMNS",
    "ANNOTATION_VALUES",
    "CHUNK_ROWS",
    "FLUSH_CHARS",
    "FORMULA_STARTS",
    "GOLD",
    "GOLD_COLUMNS",
    "GOLD_VALUES",
    "SEPARATOR",
    "Column",
    "GoldFilters",
    "IsoText",
    "KeysAgg",
    "Table",
    "annotation_csv_cells",
    "annotation_csv_header",
    "annotation_row",
    "annotation_rows",
    "annotation_values",
    "annotations_of",
    "csv_chunks",
    "dimension_ids",
    "dimension_keys",
    "formula_safe",
    "gold_copy_values",
    "gold_csv",
    "gold_csv_cells",
    "gold_jsonl",
    "gold_labels",
    "gold_row",
    "gold_rows",
    "gold_values",
    "iso",
    "jsonl_chunks",
    "parse_datetime_param",
    "parse_gold_filters",
    "parse_pairs",
    "split_keys",
]
