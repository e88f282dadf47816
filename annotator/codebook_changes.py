"""What changed between two versions of a codebook, from their plain data alone.

Pure (no Django): both versions come as ``codebooks.codebook_to_data()`` gives
them (dimensions with their categories, matched across versions by key). The
result says each change in words for the pages and names the categories whose
codes must be made again when a project moves to the newer version:

* a category removed: its codes have nothing to point at;
* a category redefined (its definition, examples or numeric value changed):
  coders chose it under another meaning;
* every category of a dimension reshaped (its level, or whether several
  categories may be chosen, changed): the old codes may not even fit it.

A new label (same key), a new shortcut, new typical words, new instructions or
a new required flag change no code's meaning: the codes are carried across.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Data = Mapping[str, Any]

ADDED, REMOVED, RENAMED, REDEFINED = "added", "removed", "renamed", "redefined"
SHORTCUT, HINTS, CHANGED = "shortcut", "hints", "changed"
# Fields of a category whose change changes what choosing it means.
MEANING = ("definition", "examples", "value")
# Fields of a dimension whose change makes every earlier code of it doubtful.
SHAPE = ("level", "multiple")
DIMENSION_FIELDS = ("label", "level", "multiple", "required", "instructions")
FIELD_WORDS = {
    "definition": "definition",
    "examples": "examples",
    "value": "numeric value",
    "typical_words": "typical words",
    "label": "label",
    "level": "level",
    "multiple": "several categories allowed",
    "required": "required",
    "instructions": "instructions",
}


@dataclass(frozen=True)
class DimensionChange:
    key: str
    kind: str  # added, removed or changed
    label: str  # the newer label (the older one when removed)
    fields: tuple[str, ...] = ()  # for "changed": which fields differ
    old: Mapping[str, Any] = field(default_factory=dict)
    new: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reshaped(self) -> bool:
        return self.kind == CHANGED and any(f in SHAPE for f in self.fields)

    def words(self) -> str:
        if self.kind == ADDED:
            return f"Dimension “{self.label}” ({self.key}) added."
        if self.kind == REMOVED:
            return f"Dimension “{self.label}” ({self.key}) removed."
        parts = [
            f"{FIELD_WORDS[f]} {_shown(self.old[f])} → {_shown(self.new[f])}"
            if f != "instructions"
            else "instructions rewritten"
            for f in self.fields
        ]
        return f"Dimension “{self.label}” ({self.key}): " + "; ".join(parts) + "."


@dataclass(frozen=True)
class CategoryChange:
    dimension: str  # the dimension's key
    key: str
    kind: str  # added, removed, renamed, redefined, shortcut or hints
    old: str = ""  # renamed: the old label; shortcut: the old key; else the label
    new: str = ""
    fields: tuple[str, ...] = ()  # redefined / hints: which fields differ

    def words(self) -> str:
        what = f"Category {self.key} of {self.dimension}"
        if self.kind == ADDED:
            return f"{what} added: “{self.new}”."
        if self.kind == REMOVED:
            return f"{what} (“{self.old}”) removed."
        if self.kind == RENAMED:
            return f"{what} renamed: “{self.old}” → “{self.new}”."
        if self.kind == SHORTCUT:
            return (
                f"{what}: shortcut {_shown(self.old or None)} → "
                f"{_shown(self.new or None)}."
            )
        changed = " and ".join(FIELD_WORDS[f] for f in self.fields)
        if self.kind == REDEFINED:
            return f"{what} (“{self.new}”) redefined: {changed} changed."
        return f"{what} (“{self.new}”): {changed} changed."


@dataclass(frozen=True)
class CodebookChanges:
    """Every change from an older version to a newer one, in codebook order."""

    old_version: int | None
    new_version: int | None
    dimensions: tuple[DimensionChange, ...]
    categories: tuple[CategoryChange, ...]
    # (dimension key, category key) of the older version whose codes are re-made.
    recode: frozenset[tuple[str, str]]
    header: tuple[str, ...] = ()  # name or description changed

    @property
    def empty(self) -> bool:
        return not (self.dimensions or self.categories or self.header)

    def words(self) -> list[str]:
        """Each change as a sentence: header, then dimension by dimension."""
        lines = list(self.header)
        for change in self.dimensions:
            lines.append(change.words())
            lines.extend(
                c.words() for c in self.categories if c.dimension == change.key
            )
        shown = {d.key for d in self.dimensions}
        lines.extend(c.words() for c in self.categories if c.dimension not in shown)
        return lines

    def recode_reasons(self) -> dict[tuple[str, str], str]:
        """Why each category in ``recode`` must be coded again, in a few words."""
        reasons: dict[tuple[str, str], str] = {}
        for d in self.dimensions:
            if d.reshaped:
                for key in d.old.get("categories", ()):
                    reasons[(d.key, key)] = "its dimension changed shape"
        for c in self.categories:
            if c.kind in (REMOVED, REDEFINED):
                reasons[(c.dimension, c.key)] = c.kind
        return {k: reasons[k] for k in sorted(self.recode)}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"“{value}”" if isinstance(value, str) else str(value)


def _by_key(items: Sequence[Data]) -> dict[str, Data]:
    return {item["key"]: item for item in items}


def _category_changes(
    dimension: str, old: Sequence[Data], new: Sequence[Data]
) -> list[CategoryChange]:
    before, after = _by_key(old), _by_key(new)
    changes: list[CategoryChange] = []
    for key, category in before.items():
        if key not in after:
            changes.append(
                CategoryChange(dimension, key, REMOVED, old=category["label"])
            )
    for key, category in after.items():
        if key not in before:
            changes.append(CategoryChange(dimension, key, ADDED, new=category["label"]))
            continue
        was = before[key]
        label = category["label"]
        if was["label"] != label:
            changes.append(
                CategoryChange(dimension, key, RENAMED, old=was["label"], new=label)
            )
        meaning = tuple(f for f in MEANING if was.get(f) != category.get(f))
        if meaning:
            changes.append(
                CategoryChange(dimension, key, REDEFINED, new=label, fields=meaning)
            )
        if was.get("typical_words") != category.get("typical_words"):
            changes.append(
                CategoryChange(
                    dimension, key, HINTS, new=label, fields=("typical_words",)
                )
            )
        if (was.get("shortcut") or "") != (category.get("shortcut") or ""):
            changes.append(
                CategoryChange(
                    dimension,
                    key,
                    SHORTCUT,
                    old=was.get("shortcut") or "",
                    new=category.get("shortcut") or "",
                )
            )
    return changes


def codebook_changes(old: Data, new: Data) -> CodebookChanges:
    """What changed from ``old`` to ``new`` (two versions' plain data)."""
    header = tuple(
        f"{what} changed: {_shown(old.get(key) or '')} → {_shown(new.get(key) or '')}."
        if key == "name"
        else f"{what} rewritten."
        for key, what in (("name", "Name"), ("description", "Description"))
        if (old.get(key) or "") != (new.get(key) or "")
    )
    before, after = _by_key(old["dimensions"]), _by_key(new["dimensions"])
    dimensions: list[DimensionChange] = []
    categories: list[CategoryChange] = []
    recode: set[tuple[str, str]] = set()
    for key, dimension in before.items():
        if key not in after:
            dimensions.append(DimensionChange(key, REMOVED, dimension["label"]))
    for key, dimension in after.items():
        if key not in before:
            dimensions.append(DimensionChange(key, ADDED, dimension["label"]))
            categories.extend(
                CategoryChange(key, c["key"], ADDED, new=c["label"])
                for c in dimension["categories"]
            )
            continue
        was = before[key]
        differ = tuple(f for f in DIMENSION_FIELDS if was.get(f) != dimension.get(f))
        if differ:
            change = DimensionChange(
                key,
                CHANGED,
                dimension["label"],
                differ,
                old={
                    **{f: was.get(f) for f in differ},
                    "categories": [c["key"] for c in was["categories"]],
                },
                new={f: dimension.get(f) for f in differ},
            )
            dimensions.append(change)
            if change.reshaped:
                recode.update((key, c["key"]) for c in was["categories"])
        found = _category_changes(key, was["categories"], dimension["categories"])
        categories.extend(found)
        recode.update((key, c.key) for c in found if c.kind in (REMOVED, REDEFINED))
    return CodebookChanges(
        old_version=old.get("version"),
        new_version=new.get("version"),
        dimensions=tuple(dimensions),
        categories=tuple(categories),
        recode=frozenset(recode),
        header=header,
    )
