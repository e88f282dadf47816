from django.core.management.base import BaseCommand

from annotator.demo import load_demo_users, load_seed_corpus


class Command(BaseCommand):
    help = (
        "Load the seed corpus and demo users (safe to run again) and print the logins."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **options) -> None:
        report = load_seed_corpus()
        users = load_demo_users()
        self.stdout.write(report.summary())
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Open {options['url']} and log in as:"))
        for user in users:
            self.stdout.write(
                f"  {user.role:<9} {user.username:<9} password: {user.password}"
            )
