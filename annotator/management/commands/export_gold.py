"""export_gold: a project's gold labels as CSV or JSON Lines, to a file or stdout."""

from __future__ import annotations

import sys
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator import exporting
from annotator.gold import refresh_gold
from annotator.models import Project
from corpus.progress import ProgressBar


class Command(BaseCommand):
    help = (
        "Write a project's gold labels, with provenance and each span's document, "
        "offsets and text, as CSV or JSON Lines (the API's downloads, row for row). "
        "A progress bar goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="project id")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument(
            "-o", "--output", default="-", help="file to write, or - for stdout"
        )
        parser.add_argument("--dimension", help="only this dimension key")
        parser.add_argument("--method", help="only labels reached by this method")
        parser.add_argument(
            "--updated-since", help="only labels updated at or after (ISO 8601)"
        )
        parser.add_argument(
            "--raw-csv",
            action="store_true",
            help="exact text in CSV cells: by default a cell starting with =, +, -, "
            "@, tab or CR gets a leading ' so no spreadsheet runs it as a formula",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        project = (
            Project.objects.select_related("codebook")
            .filter(pk=options["project"])
            .first()
        )
        if project is None:
            raise CommandError(f"no project with id {options['project']}")
        params = {
            "dimension": options["dimension"],
            "method": options["method"],
            "updated_since": options["updated_since"],
        }
        try:
            filters = exporting.parse_gold_filters(
                project, {k: v for k, v in params.items() if v}
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        refresh_gold(project)  # cheap when nothing changed
        total = exporting.gold_labels(project, filters).count()
        bar = None if options["no_progress"] else ProgressBar(total, "export")
        if options["format"] == "csv":
            chunks = counted_lines(
                exporting.gold_csv(project, filters, raw=options["raw_csv"]), bar, total
            )
        else:
            chunks = counted_lines(exporting.gold_jsonl(project, filters), bar, total)
        path = options["output"]
        # newline="": the CSV writer's own \r\n line ends pass through untouched.
        target = (
            nullcontext(sys.stdout)
            if path == "-"
            else open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        )
        try:
            with target as out:
                for chunk in chunks:
                    out.write(chunk)
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error}") from None
        if bar:
            bar.finish(total, f"{total:,} gold labels")


def counted_lines(chunks, bar: ProgressBar | None, total: int):
    """Pass CSV pieces through, moving the bar by their line ends (a newline inside
    a quoted cell counts too: close enough for a progress bar)."""
    lines = 0
    for chunk in chunks:
        lines += chunk.count("\n")
        if bar:
            bar.update(min(max(lines, 0), total), f"{lines:,} / {total:,} gold labels")
        yield chunk
