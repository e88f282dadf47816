"""A whole project in one file, and back: archive_project / restore_project.

The archive is gzip'd JSON Lines: a header line (format name, version), then one line
per row, table by table in dependency order (users, corpus, documents, spans,
codebook versions, the project, memberships, work items, assignments, annotations,
labels, their revisions, gold runs, gold labels, their categories and revisions),
then a trailer with the row count of every table, so a truncated file is refused
rather than half restored.

Rows keep their original ids only as references inside the file: a restore inserts
fresh rows and maps every foreign key (and the user ids kept inside JSON: coder_codes,
coder_accuracy, a gold revision's decided_by) through what it inserted, so an
archive loads into any database. Users travel by username and are created, without a
usable password and never as staff, when missing; existing users are left as they are,
and made managers of the restored project only when the operator allows it.
A restore reads line by line under the limits of lines.py (line sizes, nesting and
values counted before json parses, ARCHIVE_MAX_ROWS), stores rows in batches bounded
in bytes, and checks every field (checks.py) and then the admin's validators, naming
the line and field of the first bad one; nothing is stored on any refusal.

writing.py writes, restoring.py restores; tables.py describes what both walk.
"""

from annotator.archive.restoring import read_archive, restore_project
from annotator.archive.tables import (
    BATCH,
    FORMAT,
    TABLE_BY_NAME,
    TABLES,
    USER_FIELDS,
    VERSION,
    ArchiveError,
    Table,
)
from annotator.archive.writing import archive_project, rows_to_archive, write_archive

__all__ = [
    "BATCH",
    "FORMAT",
    "TABLES",
    "TABLE_BY_NAME",
    "USER_FIELDS",
    "VERSION",
    "ArchiveError",
    "Table",
    "archive_project",
    "read_archive",
    "restore_project",
    "rows_to_archive",
    "write_archive",
]
