"""Train a project's machine coder on its gold and print its validation.

    manage.py train_coder --project 3          # a table per dimension
    manage.py train_coder --project 3 --json   # {"dimensions": {key: {...}}}

Trains in this process (not through a worker): out-of-fold validation grouped
by document, then a final fit on all the gold; the coder becomes the project's
current one. A problem (no gold, a dimension with one category in its gold,
too few documents for the folds) exits with status 2 and says which.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.models import Project
from annotator.services.machine_coders import (
    K_FOLDS,
    SEED,
    MachineCoderError,
    summary,
    train,
)

BAD_INPUT = 2


def project_or_error(project_id: int) -> Project:
    """The project, or a CommandError naming the id."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise CommandError(f"No project with id {project_id}.", returncode=BAD_INPUT)
    return project


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if math.isfinite(value) else "–"
    return "–" if value is None else str(value)


class Command(BaseCommand):
    help = "Train the project's machine coder on its gold and print the validation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="Project id.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument("--folds", type=int, default=K_FOLDS, help="k folds.")
        parser.add_argument("--seed", type=int, default=SEED, help="Fold seed.")

    def handle(self, *args, **options) -> None:
        project = project_or_error(options["project"])
        if options["folds"] < 2:
            raise CommandError("--folds must be at least 2.", returncode=BAD_INPUT)
        try:
            coder = train(project, k=options["folds"], seed=options["seed"])
        except MachineCoderError as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        figures = summary(coder)
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2))
            return
        self.stdout.write(
            f"Machine coder {coder.pk} of project {project.pk}, trained on "
            f"{coder.n_train:,} gold spans ({coder.model_size:,} bytes)."
        )
        self.stdout.write("dimension        alpha   interval          F1 macro   n")
        for key, row in figures["dimensions"].items():
            lo, hi = row["interval"] or (None, None)
            self.stdout.write(
                f"{key:<16} {_figure(row['alpha_vs_gold']):>6}  "
                f"[{_figure(lo)}, {_figure(hi)}]   {_figure(row['f1_macro']):>6}   "
                f"{row['n_train']}"
            )
