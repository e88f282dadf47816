"""Recompute a project's automatic gold labels and print what each rule decided.

    manage.py compute_gold --project 3            # only if annotations changed
    manage.py compute_gold --project 3 --force    # recompute anyway

Adjudicated labels are never touched. The rules and thresholds are the
project's (``gold_methods``, ``gold_min_share``, ``gold_min_posterior``; edit
them in the admin).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from annotator.gold import adjudication_queue, refresh_gold
from annotator.models import GoldLabel, Project


class Command(BaseCommand):
    help = "Recompute a project's gold labels from its annotations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="Project id.")
        parser.add_argument(
            "--force", action="store_true", help="Recompute even when up to date."
        )

    def handle(self, *args, project: int, force: bool, **options) -> None:
        found = Project.objects.filter(pk=project).first()
        if found is None:
            raise CommandError(f"No project with id {project}.")
        started = time.perf_counter()
        runs = refresh_gold(found, force=force)
        seconds = time.perf_counter() - started
        if not runs:
            self.stdout.write(f"{found}: gold is up to date ({seconds:.2f} s).")
        for run in runs:
            line = (
                f"{run.dimension.key}: {run.n_decided} decided, "
                f"{run.n_undecided} undecided by {', '.join(run.methods) or 'no rule'}"
            )
            if run.converged is not None:
                line += (
                    f"; model {'converged' if run.converged else 'did NOT converge'}"
                    f" after {run.iterations} iterations"
                )
            self.stdout.write(line)
        counts = dict(
            GoldLabel.objects.filter(project=found)
            .values_list("method")
            .annotate(n=Count("pk"))
            .order_by()
        )
        summary = ", ".join(f"{m} {n}" for m, n in sorted(counts.items())) or "none"
        self.stdout.write(f"gold labels by method: {summary}")
        self.stdout.write(
            f"spans waiting for a reviewer: {adjudication_queue(found).count()}"
        )
        if runs:
            self.stdout.write(f"recomputed in {seconds:.2f} s")
