"""reliability_report: a project's reliability report as HTML, PDF, Markdown, LaTeX."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.agreement_report import ReportRequestError, report_request
from annotator.agreement_report.pdf import PangoMissing
from annotator.agreement_report.print_formats import FORMATS
from annotator.agreement_report.reliability import (
    ReliabilityRequestError,
    parse_primary,
    parse_unit_noun,
    reliability_report,
)
from annotator.models import Project
from annotator.services import agreement_jobs


class Command(BaseCommand):
    help = (
        "Write a project's reliability report (the report page's downloads): "
        "print-ready HTML, PDF, or the tables, methods paragraph and references "
        "as Markdown or LaTeX. Intervals a background job would compute for the "
        "web are computed here first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="project id")
        parser.add_argument("--format", choices=sorted(FORMATS), default="md")
        parser.add_argument(
            "-o", "--output", default="-", help="file to write, or - for stdout"
        )
        parser.add_argument(
            "--codebook-version",
            dest="codebook_version",
            help="codebook version (default: the project's)",
        )
        parser.add_argument(
            "--primary", help="the coefficient reported (default krippendorff_alpha)"
        )
        parser.add_argument("--unit", help="what a unit is called (default: spans)")

    def handle(self, *args, **options) -> None:
        project = (
            Project.objects.select_related("codebook")
            .filter(pk=options["project"])
            .first()
        )
        if project is None:
            raise CommandError(f"no project with id {options['project']}")
        params = {
            "version": options["codebook_version"],
            "primary": options["primary"],
            "unit": options["unit"],
        }
        params = {k: v for k, v in params.items() if v}
        try:
            _options, codebook = report_request(project, params)
            keys = list(codebook.dimensions.values_list("key", flat=True))
            ask = {
                "codebook": codebook,
                "primary": parse_primary(params, keys),
                "unit_noun": parse_unit_noun(params),
            }
        except ReportRequestError as error:
            raise CommandError(error.message) from None
        except ReliabilityRequestError as error:
            raise CommandError(f"--{error}") from None
        report = reliability_report(project, **ask)
        if not report.intervals_current and codebook.pk == project.codebook_id:
            # The web leaves large bootstraps to a worker; a command can wait.
            self.stderr.write(agreement_jobs.compute_and_store(project))
            report = reliability_report(project, **ask)
        if not report.intervals_current:
            raise CommandError(
                "the intervals of this codebook version cannot be computed here "
                "(a background job computes the project's own version only)"
            )
        try:
            body = FORMATS[options["format"]].render(report)
        except PangoMissing as error:
            raise CommandError(str(error)) from None
        # Rendered whole first: a failure leaves no half-written file.
        if options["output"] == "-" and options["format"] in ("pdf", "zip"):
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
        elif options["output"] == "-":
            self.stdout.write(body.decode("utf-8"), ending="")
        else:
            with open(options["output"], "wb") as f:
                f.write(body)
