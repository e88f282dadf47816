"""load_demo: the seed corpus, demo users, the demo and simulated projects."""

from django.core.management.base import BaseCommand

from annotator.demo import (
    DEMO_USERS,
    load_demo_project,
    load_simulated_project,
    queue_demo_machine_coder,
)


class Command(BaseCommand):
    help = (
        "Load the seed corpus and demo users (safe to run again) and print the logins."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")
        parser.add_argument(
            "--machine-coder",
            action="store_true",
            help="Queue the training of the simulated project's machine coder "
            "(a background job: `dev.py demo` starts the worker that runs it).",
        )

    def handle(self, *args, **options) -> None:
        project, report = load_demo_project()
        self.stdout.write(report.summary())
        self.stdout.write(
            f"Demo project '{project.name}': {project.work_items.count()} spans, "
            f"{project.coders_per_span} coders per span."
        )
        simulated = load_simulated_project()
        self.stdout.write(
            f"Demo project '{simulated.name}': coded by three simulated coders, so "
            "the agreement pages have data (log in as reviewer); its coders page "
            f"(/projects/{simulated.pk}/coders/) shows sim-dana drifting on hidden "
            "checks."
        )
        if options["machine_coder"]:
            job = queue_demo_machine_coder(simulated)
            self.stdout.write(
                f"Its machine coder (/projects/{simulated.pk}/machine/): "
                + (
                    f"training as job {job.pk}, about half a minute."
                    if job is not None
                    else "already trained."
                )
            )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Open {options['url']} and log in as:"))
        for user in DEMO_USERS:
            self.stdout.write(
                f"  {user.role:<9} {user.username:<9} password: {user.password}"
            )
