"""Code the spans no human coded with the project's machine coder.

    manage.py predict --project 3

Runs in this process; replaces the project's earlier machine codes. Machine
codes are kept apart from the human gold (``MachineLabel``); the gold export
includes them only with ``?include_machine=1``. Exits with status 2 and says
why when the project has no usable machine coder.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.management.commands.train_coder import BAD_INPUT, project_or_error
from annotator.services.machine_coders import MachineCoderError, predict_rest


class Command(BaseCommand):
    help = "Machine-code the project's spans that no human coded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="Project id.")

    def handle(self, *args, **options) -> None:
        project = project_or_error(options["project"])
        try:
            n = predict_rest(project)
        except MachineCoderError as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        self.stdout.write(f"{n:,} spans of project {project.pk} machine-coded.")
