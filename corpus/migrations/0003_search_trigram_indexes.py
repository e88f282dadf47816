"""Trigram indexes for the document search's ILIKE (corpus/search.py), PostgreSQL only.

Title and outlet only: they are short, so the indexes cost imports little. A text
index would hold every trigram of every document (gigabytes at a million spans,
and minutes of every import); a search of the text reads the rows instead.
pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
"""

from django.db import migrations

INDEXES = {
    "corpus_document_title_trgm": "title",
    "corpus_document_source_trgm": "source",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON corpus_document "
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("corpus", "0002_corpus_uploader")]

    operations = [migrations.RunPython(create, drop)]
