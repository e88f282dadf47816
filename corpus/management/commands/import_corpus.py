"""import_corpus: .txt / CSV / JSONL files into a corpus, all or nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from corpus.importing import (
    ImportFailed,
    compile_patterns,
    expand_paths,
    import_documents,
    read_paths,
)
from corpus.models import Corpus
from corpus.progress import BytesRead, ProgressBar
from corpus.segmenting import Segmentation


class Command(BaseCommand):
    help = (
        "Import .txt files (or folders of them), CSV or JSONL into a corpus. "
        "All or nothing: any bad record aborts the whole import with its file, line "
        "and field. Documents already in the corpus are reported and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", help=".txt/.csv/.jsonl files or folders"
        )
        parser.add_argument(
            "--corpus", required=True, help="corpus name (created if new)"
        )
        parser.add_argument(
            "--segment",
            choices=[choice.value for choice in Segmentation],
            default=Segmentation.PARAGRAPH.value,
            help="how documents become spans (default: paragraph; 'line' = one span "
            "per line, 'none' = one span per document)",
        )
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="REGEX",
            help="spans whose whole text matches REGEX are excluded from coding "
            "(page chrome); may be repeated",
        )
        parser.add_argument(
            "--language", default="", help="default language code, e.g. en"
        )
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        try:
            compile_patterns(options["exclude"])  # before any file is read
            paths = expand_paths(options["paths"])
        except ImportFailed as error:
            raise CommandError(str(error)) from None
        sizes = {path.name: path.stat().st_size for path in paths}
        bar = (
            None
            if options["no_progress"]
            else ProgressBar(sum(sizes.values()), "import")
        )
        read = BytesRead(sizes)

        def progress(record) -> None:
            done = read(record)
            if bar:
                bar.update(done, f"{read.records:,} documents")

        try:
            # One transaction for the corpus row too: a failed first import of a new
            # corpus leaves no empty corpus behind.
            with transaction.atomic():
                corpus, _ = Corpus.objects.get_or_create(name=options["corpus"])
                report = import_documents(
                    corpus=corpus,
                    records=read_paths(paths),
                    segmentation=options["segment"],
                    exclude_patterns=options["exclude"],
                    default_language=options["language"],
                    batch_size=options["batch_size"],
                    progress=progress,
                )
        except ImportFailed as error:
            if bar:
                bar.finish(read.finished, "aborted")
            raise CommandError(f"{error} Nothing was imported.") from None
        if bar:
            bar.finish(read.total, f"{read.records:,} documents")
        self.stdout.write(self.style.SUCCESS(report.summary()))
        for duplicate in report.duplicates[:20]:
            self.stdout.write(f"  duplicate: {duplicate}")
        if len(report.duplicates) > 20:
            self.stdout.write(f"  … and {len(report.duplicates) - 20} more duplicates")
