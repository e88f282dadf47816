"""export_codebook: a codebook version as YAML or JSON, to a file or stdout."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.codebooks import dump_codebook
from annotator.models import Codebook


class Command(BaseCommand):
    help = (
        "Export a codebook as YAML or JSON, in the shape import_codebook reads. "
        "Name it by id, or by family (the latest version unless --codebook-version "
        "is given)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codebook", help="codebook id or family")
        parser.add_argument(
            "--codebook-version", type=int, help="version within the family"
        )
        parser.add_argument(
            "--format",
            choices=["yaml", "json"],
            help="default: from the -o suffix (.json → json), else yaml",
        )
        parser.add_argument("-o", "--output", help="write here instead of stdout")

    def handle(self, *args, **options) -> None:
        codebook = self.find(options["codebook"], options["codebook_version"])
        output = options["output"]
        fmt = options["format"] or (
            "json" if output and output.endswith(".json") else "yaml"
        )
        text = dump_codebook(codebook, fmt)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(
                f"Wrote {codebook.family} v{codebook.version} to {output} ({fmt})."
            )
        else:
            self.stdout.write(text, ending="")

    def find(self, name: str, version: int | None) -> Codebook:
        versions = Codebook.objects.all()
        if name.isdigit() and version is None:
            found = versions.filter(pk=int(name)).first()
            if found is None:
                raise CommandError(f"No codebook with id {name}.")
            return found
        family = versions.filter(family=name)
        if not family.exists():
            known = ", ".join(
                versions.values_list("family", flat=True).distinct().order_by("family")
            )
            raise CommandError(
                f"No codebook family '{name}'. Known families: {known or 'none'}."
            )
        found = (
            family.filter(version=version).first()
            if version
            else family.order_by("-version").first()
        )
        if found is None:
            raise CommandError(f"Codebook '{name}' has no version {version}.")
        return found
