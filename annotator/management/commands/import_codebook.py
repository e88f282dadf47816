"""import_codebook: a YAML / JSON codebook in as a new version (or unchanged)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.codebooks import import_codebook, read_codebook_file
from annotator.models import Codebook


class Command(BaseCommand):
    help = (
        "Import a codebook from YAML or JSON (.json is read as JSON, anything else as "
        "YAML). Same content as the family's latest version: nothing changes. "
        "Changed content: a new version if the latest is in use, else in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="codebook file (.yaml, .yml or .json)")

    def handle(self, *args, **options) -> None:
        try:
            data = read_codebook_file(options["file"])
            codebook, outcome = import_codebook(data)
        except OSError as error:
            raise CommandError(f"{options['file']}: {error.strerror}.") from None
        except ValidationError as error:
            raise CommandError(
                f"{options['file']}: invalid codebook, nothing imported:\n  "
                + "\n  ".join(error.messages)
            ) from None
        n_categories = sum(
            len(dimension.categories.all())
            for dimension in codebook.dimensions.prefetch_related("categories")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{codebook.family} v{codebook.version} (id {codebook.pk}): {outcome}; "
                f"{codebook.dimensions.count()} dimensions, {n_categories} categories."
            )
        )
        if outcome == "new version":
            stale = Codebook.objects.filter(
                family=codebook.family, version__lt=codebook.version
            ).values_list("projects__name", flat=True)
            for name in sorted({name for name in stale if name}):
                self.stdout.write(
                    f"  Project '{name}' keeps coding with its earlier version."
                )
