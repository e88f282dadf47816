""".txt / CSV / JSONL → Documents and Spans: streamed, validated, atomic, deduplicated.

Readers (readers.py) turn files into RawDocument records one at a time (nothing holds
a whole file in memory); import_documents() (writer.py) validates each record
(records.py), segments it and writes in batches, all inside one transaction, so a bad
row at line 90,000 leaves nothing behind. base.py holds what the three share.
"""

from corpus.importing.base import (
    MAX_FIELD_CHARS,
    MAX_LINE_BYTES,
    MAX_RECORDS,
    ImportFailed,
    RawDocument,
    limit,
)
from corpus.importing.exclusion import compile_patterns
from corpus.importing.readers import (
    READERS,
    SUPPORTED_SUFFIXES,
    expand_paths,
    read_csv,
    read_jsonl,
    read_paths,
    read_txt,
    read_upload,
    reader_for,
)
from corpus.importing.records import (
    KNOWN_FIELDS,
    first_line,
    normalise_text,
    validate_record,
)
from corpus.importing.writer import (
    DOCUMENT_COLUMNS,
    SPAN_COLUMNS,
    ImportReport,
    Prepared,
    SpanRow,
    import_documents,
)

__all__ = [
    "DOCUMENT_COLUMNS",
    "KNOWN_FIELDS",
    "MAX_FIELD_CHARS",
    "MAX_LINE_BYTES",
    "MAX_RECORDS",
    "READERS",
    "SPAN_COLUMNS",
    "SUPPORTED_SUFFIXES",
    "ImportFailed",
    "ImportReport",
    "Prepared",
    "RawDocument",
    "SpanRow",
    "compile_patterns",
    "expand_paths",
    "first_line",
    "import_documents",
    "limit",
    "normalise_text",
    "read_csv",
    "read_jsonl",
    "read_paths",
    "read_txt",
    "read_upload",
    "reader_for",
    "validate_record",
]
