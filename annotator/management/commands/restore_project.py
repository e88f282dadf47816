"""restore_project: an archive back into fresh rows, all or nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.archive import ArchiveError, restore_project


class Command(BaseCommand):
    help = (
        "Load a project archive written by archive_project, all or nothing. Ids are "
        "new; users are matched by username and created (without a password) when "
        "missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="file written by archive_project")

    def handle(self, *args, **options) -> None:
        try:
            project = restore_project(options["archive"])
        except FileNotFoundError:
            raise CommandError(f"{options['archive']}: no such file.") from None
        except ArchiveError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored project {project.pk} '{project}'.")
