"""Codebooks as data (YAML / JSON), validated, versioned.

A version that has annotations is frozen: importing changed content for the same
family makes the next version, so every annotation keeps the categories it was made
under. Unused versions are updated in place.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from annotator.codebook_changes import codebook_changes
from annotator.models import Category, Codebook, Dimension

# The coding screen's own keys (coding.js): a category may not take them.
RESERVED_KEYS = {
    "?": "opens the codebook panel",
    " ": "space (checks the focused choice)",
    "\n": "Enter (submits)",
}
# The coding form posts one field per dimension key beside these fixed fields; a
# dimension named like one of them would silently swallow it.
RESERVED_DIMENSION_KEYS = {
    "assignment", "token", "uncertain", "comment", "reason", "csrfmiddlewaretoken"
}  # fmt: skip
LEVELS = {choice.value for choice in Dimension.Level}


def _is_slug(key: str) -> bool:
    """Letters, digits, _ or -: keys travel in URLs, form fields and exports."""
    return bool(key) and slugify(key).replace("-", "_") == key.replace("-", "_")


def read_codebook_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return parse_codebook_text(path.read_text(encoding="utf-8"), path.name)


def parse_codebook_text(text: str, name: str) -> dict[str, Any]:
    """A file's text as data: JSON if `name` ends in .json, else YAML. Errors name
    the file and (from the parser) the line and column."""
    try:
        data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ValidationError(f"{name}: cannot parse: {error}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{name}: expected a mapping at the top level.")
    return data


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Validate and fill defaults; raise ValidationError naming the bad entry."""
    errors: list[str] = []
    name = str(data.get("name") or "").strip()
    if not name:
        errors.append("name: missing.")
    family = slugify(str(data.get("family") or name))[:100]
    dimensions = data.get("dimensions")
    if not isinstance(dimensions, list) or not dimensions:
        raise ValidationError(errors + ["dimensions: a non-empty list is required."])
    shortcuts: dict[str, str] = {}
    seen_dimensions: set[str] = set()
    result_dimensions = []
    for d_index, dimension in enumerate(dimensions, start=1):
        where = f"dimension {d_index}"
        if not isinstance(dimension, dict):
            errors.append(f"{where}: expected a mapping.")
            continue
        key = str(dimension.get("key") or "")
        where = f"dimension '{key or d_index}'"
        if not _is_slug(key):
            errors.append(f"{where}: key must be a slug (letters, digits, _ or -).")
        if key in seen_dimensions:
            errors.append(f"{where}: key used twice.")
        if key in RESERVED_DIMENSION_KEYS:
            errors.append(
                f"{where}: '{key}' is reserved by the coding form; choose another key."
            )
        seen_dimensions.add(key)
        level = dimension.get("level", "nominal")
        if level not in LEVELS:
            errors.append(f"{where}: level must be one of {sorted(LEVELS)}.")
        categories = dimension.get("categories")
        if not isinstance(categories, list) or len(categories) < 2:
            errors.append(f"{where}: needs a list of at least two categories.")
            continue
        seen_categories: set[str] = set()
        result_categories = []
        for c_index, category in enumerate(categories, start=1):
            if not isinstance(category, dict):
                errors.append(f"{where}, category {c_index}: expected a mapping.")
                continue
            c_key = str(category.get("key") or "")
            c_where = f"{where}, category '{c_key or c_index}'"
            if not _is_slug(c_key):
                errors.append(f"{c_where}: key must be a slug.")
            if c_key in seen_categories:
                errors.append(f"{c_where}: key used twice in this dimension.")
            seen_categories.add(c_key)
            shortcut = str(category.get("shortcut") or "")
            if len(shortcut) > 1:
                errors.append(f"{c_where}: shortcut must be one character.")
            elif shortcut in RESERVED_KEYS:
                errors.append(
                    f"{c_where}: shortcut {shortcut!r} is the coding screen's own "
                    f"key ({RESERVED_KEYS[shortcut]}); choose another."
                )
            elif shortcut:
                # Case-blind: with Caps Lock on, "s" arrives as "S" (coding.js
                # matches either), so "s" and "S" would be one key.
                if shortcut.lower() in shortcuts:
                    errors.append(
                        f"{c_where}: shortcut '{shortcut}' is already used by "
                        f"{shortcuts[shortcut.lower()]} (shortcuts ignore case: "
                        "Caps Lock turns one into the other)."
                    )
                shortcuts[shortcut.lower()] = c_where
            value = category.get("value")
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if level == "ordinal" and not numeric:
                errors.append(f"{c_where}: ordinal categories need a numeric value.")
            examples = category.get("examples") or []
            if not isinstance(examples, list):
                examples = [str(examples)]
            typical_words = category.get("typical_words") or []
            if not isinstance(typical_words, list):
                typical_words = [typical_words]
            result_categories.append(
                {
                    "key": c_key,
                    "label": str(category.get("label") or c_key),
                    "definition": str(category.get("definition") or "").strip(),
                    "examples": [str(example) for example in examples],
                    "typical_words": [str(word) for word in typical_words],
                    "shortcut": shortcut,
                    "value": float(value) if isinstance(value, int | float) else None,
                }
            )
        result_dimensions.append(
            {
                "key": key,
                "label": str(dimension.get("label") or key),
                "level": level,
                "multiple": bool(dimension.get("multiple", False)),
                "required": bool(dimension.get("required", True)),
                "instructions": str(dimension.get("instructions") or "").strip(),
                "categories": result_categories,
            }
        )
    if errors:
        raise ValidationError(errors)
    return {
        "family": family,
        "name": name,
        "description": str(data.get("description") or "").strip(),
        "dimensions": result_dimensions,
    }


def check_codebook(data: dict[str, Any]) -> dict[str, Any]:
    """The data validated and filled with defaults, as import_codebook() stores it
    (ValidationError naming each bad entry); nothing is written."""
    return _normalise(data)


def codebook_to_data(codebook: Codebook) -> dict[str, Any]:
    """The codebook as plain data: the same shape import_codebook() reads."""
    return {
        "family": codebook.family,
        "version": codebook.version,
        "name": codebook.name,
        "description": codebook.description,
        "dimensions": [
            {
                "key": dimension.key,
                "label": dimension.label,
                "level": dimension.level,
                "multiple": dimension.multiple,
                "required": dimension.required,
                "instructions": dimension.instructions,
                "categories": [
                    {
                        "key": category.key,
                        "label": category.label,
                        "definition": category.definition,
                        "examples": list(category.examples),
                        "typical_words": list(category.typical_words),
                        "shortcut": category.shortcut,
                        "value": category.value,
                    }
                    for category in dimension.categories.all()
                ],
            }
            for dimension in codebook.dimensions.prefetch_related("categories")
        ],
    }


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in ("name", "description", "dimensions")}


def content_digest(codebook: Codebook) -> str:
    """A fingerprint of what the version says: a queued codebook move checks the
    version it moves to still says what the manager saw when they asked."""
    content = _content(_normalise(codebook_to_data(codebook)))
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _fill(codebook: Codebook, data: dict[str, Any]) -> None:
    codebook.dimensions.all().delete()
    for d_position, dimension in enumerate(data["dimensions"]):
        fields = {k: v for k, v in dimension.items() if k != "categories"}
        row = Dimension.objects.create(codebook=codebook, position=d_position, **fields)
        Category.objects.bulk_create(
            Category(dimension=row, position=c_position, **category)
            for c_position, category in enumerate(dimension["categories"])
        )


@transaction.atomic
def import_codebook(data: dict[str, Any]) -> tuple[Codebook, str]:
    """Create or update a codebook from data; returns (version, what happened).

    Same content as the latest version: nothing changes ("unchanged"). Changed content:
    a new version if the latest is in use ("new version"), else in place ("updated").
    """
    clean = _normalise(data)
    # Locked: a version rewritten in place waits for a move to it that is running
    # (which holds it too), and then finds it in use and makes the next one.
    latest = (
        Codebook.objects.select_for_update()
        .filter(family=clean["family"])
        .order_by("-version")
        .first()
    )
    if latest is None:
        codebook = Codebook.objects.create(
            family=clean["family"], name=clean["name"], description=clean["description"]
        )
        _fill(codebook, clean)
        return codebook, "created"
    if _content(_normalise(codebook_to_data(latest))) == _content(clean):
        return latest, "unchanged"
    if latest.is_in_use():
        codebook = Codebook.objects.create(
            family=clean["family"],
            version=latest.version + 1,
            name=clean["name"],
            description=clean["description"],
        )
        _fill(codebook, clean)
        return codebook, "new version"
    latest.name, latest.description = clean["name"], clean["description"]
    latest.save()
    _fill(latest, clean)
    return latest, "updated"


@transaction.atomic
def new_codebook_version(codebook: Codebook) -> Codebook:
    """An editable copy of a (frozen) version, numbered after the family's latest."""
    latest = (
        Codebook.objects.filter(family=codebook.family).order_by("-version").first()
    )
    data = _normalise(codebook_to_data(codebook))
    copy = Codebook.objects.create(
        family=codebook.family,
        version=latest.version + 1,
        name=data["name"],
        description=data["description"],
    )
    _fill(copy, data)
    return copy


def dump_codebook(codebook: Codebook, fmt: str = "yaml") -> str:
    data = codebook_to_data(codebook)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=88)


def version_changes(before: Codebook, after: Codebook) -> dict[str, Any]:
    """What changed from one version to another, as the pages show it
    (``codebook_changes.html#changes``): both versions, the changes in words
    and the categories whose codes a project moving across makes again."""
    changes = codebook_changes(codebook_to_data(before), codebook_to_data(after))
    return {
        "before": before,
        "after": after,
        "changes": changes,
        "reasons": changes.recode_reasons(),
    }
