"""import_codings: existing codings from a CSV or JSONL file into a project."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.models import Project
from annotator.services.codings_import import CodingsImportFailed, import_codings


class Command(BaseCommand):
    help = (
        "Import codings (one code a row: span_id, or document_id / document_title "
        "with span_index; coder; dimension; category or value) into a project, all "
        "or nothing. Codings already stored with the same codes are left alone; "
        "different codes for a stored coding refuse the whole file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="project id")
        parser.add_argument("file", help="a .csv file with a header, or a .jsonl file")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with id {options['project']}.")
        try:
            with open(options["file"], "rb") as stream:
                report = import_codings(
                    project=project, stream=stream, name=options["file"]
                )
        except FileNotFoundError:
            raise CommandError(f"{options['file']}: no such file.") from None
        except CodingsImportFailed as error:
            raise CommandError(
                "\n".join(error.messages) + "\nNothing was imported."
            ) from None
        self.stdout.write(f"Project {project.pk} '{project}': {report.summary()}")
