"""createmanager: make a manager (the Managers group) from the command line.

    manage.py createmanager alice --email alice@example.org          # asks twice
    PW=... manage.py createmanager alice --email a@x.org --password-from-env PW

The password passes Django's validators (AUTH_PASSWORD_VALIDATORS); without a
terminal (scripts), --password-from-env is required. The manager then invites
everyone else from a project's members page.
"""

from __future__ import annotations

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from annotator.services.people import create_manager


class Command(BaseCommand):
    help = (
        "Create a manager account (Managers group): imports corpora, creates projects."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="Their address (for resets).")
        parser.add_argument(
            "--password-from-env",
            metavar="VARIABLE",
            help="Read the password from this environment variable (for scripts).",
        )

    def handle(self, *, username: str, email: str, password_from_env, **options):
        if password_from_env:
            password = os.environ.get(password_from_env)
            if not password:
                raise CommandError(
                    f"--password-from-env {password_from_env}: that variable is "
                    "not set or empty."
                )
        elif sys.stdin.isatty():
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was created.")
        else:
            raise CommandError(
                "No terminal to ask the password on: pass --password-from-env VARIABLE."
            )
        try:
            user = create_manager(username=username, email=email, password=password)
        except ValidationError as error:
            problems = (
                "; ".join(
                    f"{field}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
                if hasattr(error, "error_dict")
                else " ".join(error.messages)
            )
            raise CommandError(f"No manager created. {problems}") from None
        self.stdout.write(f"Created the manager {user.get_username()}.")
