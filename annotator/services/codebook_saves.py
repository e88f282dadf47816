"""Save a codebook from the browser: import_codebook()'s rules, said in words.

The editor and the upload page both save here, and here only through
annotator/codebooks.py `import_codebook()`, the path `manage.py import_codebook`
takes: a version with annotations is frozen and changed content makes the next
version; a version nobody has used yet is updated in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from annotator.codebooks import check_codebook, import_codebook
from annotator.models import Annotation, Codebook


@dataclass(frozen=True)
class CodebookSaved:
    codebook: Codebook
    outcome: str  # import_codebook()'s: created, updated, new version, unchanged
    message: str  # for the manager: which version, and why


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@transaction.atomic
def save_codebook(
    data: dict[str, Any], *, family: str | None = None, new_family: bool = False
) -> CodebookSaved:
    """Import `data` as the family's next state; `family` pins the family (an
    edit of an existing codebook), `new_family` refuses one that exists (a new
    codebook must not silently become another's next version)."""
    if family is not None:
        data = {**data, "family": family}
    clean = check_codebook(data)
    previous = (
        Codebook.objects.filter(family=clean["family"]).order_by("-version").first()
    )
    if new_family and previous is not None:
        raise ValidationError(
            f"family: a codebook '{clean['family']}' exists already (version "
            f"{previous.version}); edit it from the codebooks page, or choose "
            "another family."
        )
    codebook, outcome = import_codebook(data)
    return CodebookSaved(codebook, outcome, _message(codebook, outcome, previous))


def _message(codebook: Codebook, outcome: str, previous: Codebook | None) -> str:
    version = f"Version {codebook.version} of {codebook.name}"
    if outcome == "created":
        return f"{version} saved: a new codebook."
    if outcome == "unchanged":
        return f"Nothing changed: {version.lower()} is as it was."
    if outcome == "updated":
        return f"{version} saved, updated in place: no annotation uses it yet."
    assert previous is not None  # a new version follows one
    n = Annotation.objects.filter(codebook=previous).count()
    projects = sorted(previous.projects.values_list("name", flat=True))
    kept = (
        f" Projects on version {previous.version} keep it until moved: "
        + ", ".join(projects)
        + "."
        if projects
        else ""
    )
    return (
        f"{version} saved; version {previous.version} stays as it was because "
        f"{_plural(n, 'annotation')} use{'s' if n == 1 else ''} it.{kept}"
    )
