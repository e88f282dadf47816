"""prune_jobs: delete the jobs (as managers see them) that finished long ago.

django-tasks-db's ``prune_db_task_results`` deletes the workers' own records;
this deletes ours (annotator.Job). Waiting and running jobs are never deleted.

    manage.py prune_jobs --min-age-days 30 [--dry-run]
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from annotator.services.jobs import prune_finished_jobs


class Command(BaseCommand):
    help = "Delete jobs that finished more than --min-age-days ago (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--min-age-days", type=int, default=30)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *, min_age_days: int, dry_run: bool, **options):
        if min_age_days < 0:
            raise CommandError(f"--min-age-days must be 0 or more, not {min_age_days}.")
        n = prune_finished_jobs(
            older_than=timedelta(days=min_age_days), dry_run=dry_run
        )
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{verb} {n} job{'s' if n != 1 else ''} finished more than "
            f"{min_age_days} days ago"
        )
