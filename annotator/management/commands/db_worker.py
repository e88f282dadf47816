"""db_worker: django-tasks-db's worker, after a sweep of jobs whose worker died.

Same options as django-tasks-db's own command (this one wins because
``annotator`` comes before ``django_tasks_db`` in INSTALLED_APPS). Before taking
work it fails every running job whose worker is gone, with the reason, and
queues one retry (``annotator/services/job_sweep.py``). SIGTERM or SIGINT stops
it after the job in hand; a second one stops that job too (its work is rolled
back and the job marked failed).
"""

from django_tasks_db.management.commands.db_worker import Command as DBWorker

from annotator.services.job_sweep import sweep_orphaned_jobs


class Command(DBWorker):
    help = DBWorker.help + " (after failing and retrying jobs whose worker died)"

    def handle(self, *args, **options):
        for line in sweep_orphaned_jobs():
            self.stdout.write(line)
        return super().handle(*args, **options)
