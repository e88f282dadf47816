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
usable password and never as staff, when missing; existing users are left as they are.
A restore reads line by line under ARCHIVE_MAX_LINE_BYTES and ARCHIVE_MAX_ROWS and
validates every row as the admin would, naming the line of the first bad one.

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
from annotator.archive.writing import archive_project, write_archive

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
    "write_archive",
]
