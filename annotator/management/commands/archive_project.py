"""archive_project: one project and every row it refers to, to one file."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.archive import archive_project
from annotator.models import Project


class Command(BaseCommand):
    help = (
        "Write a whole project (corpus, codebook versions, members, queue, "
        "annotations with history, gold with provenance) to one gzip'd JSONL file; "
        "restore_project loads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", type=int, help="project id")
        parser.add_argument("-o", "--output", required=True, help="archive file")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with id {options['project']}.")
        try:
            counts = archive_project(project, options["output"])
        except OSError as exc:
            raise CommandError(f"{options['output']}: {exc.strerror}.") from None
        rows = ", ".join(f"{n} {table}" for table, n in counts.items())
        self.stderr.write(
            f"Archived project {project.pk} '{project}' to {options['output']}: {rows}."
        )
