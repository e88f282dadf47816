"""restore_project: an archive back into fresh rows, all or nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.archive import ArchiveError, restore_project


class Command(BaseCommand):
    help = (
        "Load a project archive written by archive_project, all or nothing. Ids are "
        "new; users are matched by username and created (without a password) when "
        "missing, never as staff; an existing account is made a manager only with "
        "--allow-managers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="file written by archive_project")
        parser.add_argument(
            "--allow-managers",
            action="store_true",
            help="let the archive make accounts that already exist here managers of "
            "the restored project (without it, such a membership is refused)",
        )

    def handle(self, *args, **options) -> None:
        try:
            project = restore_project(
                options["archive"], allow_managers=options["allow_managers"]
            )
        except FileNotFoundError:
            raise CommandError(f"{options['archive']}: no such file.") from None
        except ArchiveError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored project {project.pk} '{project}'.")
