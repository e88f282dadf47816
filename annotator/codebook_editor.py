"""The codebook editor's form: posted fields to a draft and back, and its buttons.

A draft is the import shape of annotator/codebooks.py (name, family, description,
dimensions with their categories) as typed: a category's value is text, its
examples one per line, its typical words comma-separated. `codebook_data()` turns a
draft into what `import_codebook()` reads, so saving goes through the same
validation and versioning as a file. The page posts every field of every dimension
and category on each button (add, remove, move up or down), so it works without
JavaScript: the answer is the same editor with the draft changed, nothing saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Draft = dict[str, Any]

MAX_DIMENSIONS = 30
MAX_CATEGORIES = 60  # per dimension
SAMPLE_TEXT = (
    "The minister said on Tuesday that the new trade agreement would lower "
    "tariffs on steel, a claim the opposition called 'wishful thinking'."
)
OPERATION = re.compile(
    r"(?P<verb>add|remove|up|down)-(?P<what>dimension|category)"
    r"(?:-(?P<d>\d+))?(?:-(?P<c>\d+))?"
)


def new_category(n: int) -> Draft:
    return {
        "key": f"category_{n}",
        "label": "",
        "definition": "",
        "examples": "",
        "typical_words": "",
        "shortcut": "",
        "value": "",
    }


def new_dimension(n: int) -> Draft:
    return {
        "key": f"dimension_{n}",
        "label": "",
        "level": "nominal",
        "multiple": False,
        "required": True,
        "instructions": "",
        "categories": [new_category(1), new_category(2)],
    }


def blank_draft() -> Draft:
    return {
        "name": "",
        "family": "",
        "description": "",
        "dimensions": [new_dimension(1)],
    }


def _number_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def draft_from_data(data: Mapping[str, Any]) -> Draft:
    """A draft of stored codebook data (codebooks.codebook_to_data())."""
    return {
        "name": data.get("name", ""),
        "family": data.get("family", ""),
        "description": data.get("description", ""),
        "dimensions": [
            {
                **{k: v for k, v in dimension.items() if k != "categories"},
                "categories": [
                    {
                        **category,
                        "examples": "\n".join(category.get("examples") or []),
                        "typical_words": ", ".join(category.get("typical_words") or []),
                        "value": _number_text(category.get("value")),
                        "shortcut": category.get("shortcut") or "",
                    }
                    for category in dimension["categories"]
                ],
            }
            for dimension in data.get("dimensions", [])
        ],
    }


def _count(post: Mapping[str, str], field: str, most: int) -> int:
    try:
        return max(0, min(int(post.get(field, 0)), most))
    except (TypeError, ValueError):
        return 0


def draft_from_post(post: Mapping[str, str]) -> Draft:
    """The draft the editor posted (fields d<i>-… and d<i>-c<j>-…, counted by
    `dimensions` and d<i>-categories)."""
    dimensions = []
    for i in range(_count(post, "dimensions", MAX_DIMENSIONS)):
        d = f"d{i}-"
        categories = []
        for j in range(_count(post, f"{d}categories", MAX_CATEGORIES)):
            c = f"{d}c{j}-"
            categories.append(
                {
                    field: post.get(c + field, "").strip()
                    for field in new_category(0)
                    if field != "shortcut"
                }
                | {"shortcut": post.get(c + "shortcut", "").strip()[:2]}
            )
        dimensions.append(
            {
                "key": post.get(d + "key", "").strip(),
                "label": post.get(d + "label", "").strip(),
                "level": post.get(d + "level", "nominal"),
                "multiple": bool(post.get(d + "multiple")),
                "required": bool(post.get(d + "required")),
                "instructions": post.get(d + "instructions", "").strip(),
                "categories": categories,
            }
        )
    return {
        "name": post.get("name", "").strip(),
        "family": post.get("family", "").strip(),
        "description": post.get("description", "").strip(),
        "dimensions": dimensions,
    }


def _moved(items: list, index: int, step: int) -> None:
    other = index + step
    if 0 <= index < len(items) and 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]


def apply_operation(draft: Draft, operation: str) -> bool:
    """Apply a button of the editor to the draft in place; False if it is not one
    (save, preview) or names nothing that exists."""
    match = OPERATION.fullmatch(operation or "")
    if match is None:
        return False
    verb, what = match["verb"], match["what"]
    dimensions = draft["dimensions"]
    d = int(match["d"]) if match["d"] is not None else None
    if what == "dimension":
        if verb == "add" and len(dimensions) < MAX_DIMENSIONS:
            dimensions.append(new_dimension(len(dimensions) + 1))
        elif d is None or d >= len(dimensions):
            return False
        elif verb == "remove":
            del dimensions[d]
        elif verb in ("up", "down"):
            _moved(dimensions, d, -1 if verb == "up" else 1)
        return True
    if d is None or d >= len(dimensions):
        return False
    categories = dimensions[d]["categories"]
    c = int(match["c"]) if match["c"] is not None else None
    if verb == "add" and len(categories) < MAX_CATEGORIES:
        categories.append(new_category(len(categories) + 1))
    elif c is None or c >= len(categories):
        return False
    elif verb == "remove":
        del categories[c]
    elif verb in ("up", "down"):
        _moved(categories, c, -1 if verb == "up" else 1)
    return True


def _number(text: str) -> float | str | None:
    """A value as typed: a number, None if blank, else the text (refused below)."""
    if not text:
        return None
    try:
        return float(text.replace(",", ".")) if text.strip() else None
    except ValueError:
        return text


def codebook_data(draft: Draft) -> tuple[dict[str, Any], list[str]]:
    """The draft as import data, and the typing errors import cannot see (a value
    that is no number), each naming its dimension and category."""
    errors: list[str] = []
    dimensions = []
    for d_index, dimension in enumerate(draft["dimensions"], start=1):
        where = f"dimension '{dimension['key'] or d_index}'"
        categories = []
        for c_index, category in enumerate(dimension["categories"], start=1):
            value = _number(category["value"])
            if isinstance(value, str):
                errors.append(
                    f"{where}, category '{category['key'] or c_index}': value "
                    f"'{value}' is not a number."
                )
                value = None
            categories.append(
                {
                    **category,
                    "examples": [
                        line.strip()
                        for line in category["examples"].splitlines()
                        if line.strip()
                    ],
                    "typical_words": [
                        word.strip()
                        for word in category["typical_words"].split(",")
                        if word.strip()
                    ],
                    "value": value,
                }
            )
        dimensions.append({**dimension, "categories": categories})
    data = {**draft, "dimensions": dimensions}
    if not data["family"]:
        del data["family"]  # import derives it from the name
    return data, errors
