"""The reference items page read: items by use with their codes, counts, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.db.models import F

from annotator.models import Project, ReferenceItem, WorkItem
from annotator.services.labels import codebook_dimensions
from annotator.training import pool
from annotator.training.reference import carry_problem

Use = ReferenceItem.Use
# Fewer test items than this and α is too unstable to certify on.
MIN_TEST_ITEMS = 10


@dataclass
class Row:
    item: ReferenceItem
    codes: list[tuple[str, str]]  # (dimension label, category labels)
    older: bool = False  # on an older codebook version: not served
    carry: str = ""  # why it cannot be carried ('' when it can)
    open_in_queue: bool = False  # a check whose span the study still serves


@dataclass
class UseGroup:
    use: str
    label: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class Listing:
    groups: list[UseGroup]
    retired: list[Row]
    warnings: list[str]

    @property
    def total(self) -> int:
        return sum(len(group.rows) for group in self.groups)


def shown_codes(
    codebook_id: int, codes: dict, read=codebook_dimensions
) -> list[tuple[str, str]]:
    """The codes as (dimension label, category labels) in codebook order; a key
    the version does not know is shown as given."""
    dimensions = read(codebook_id)
    shown = []
    for key, keys in codes.items():
        dimension = dimensions.get(key)
        categories = dimension.category_map if dimension else {}
        labels = [categories[k].label if k in categories else k for k in keys]
        shown.append((dimension.label if dimension else key, ", ".join(labels) or "—"))
    return shown


def _test_warnings(dimensions: dict, rows: list[Row]) -> list[str]:
    current = [row.item for row in rows if not row.older]
    if not current:
        return []
    warnings = []
    if len(current) < MIN_TEST_ITEMS:
        warnings.append(
            f"The test set has {len(current)} item{'s' * (len(current) != 1)}: "
            f"α over fewer than about {MIN_TEST_ITEMS} is too unstable to certify on."
        )
    for key, dimension in dimensions.items():
        used = {k for item in current for k in item.codes.get(key, [])}
        if len(used) < 2:
            warnings.append(
                f"The test set uses {len(used) or 'no'} categor"
                f"{'y' if len(used) == 1 else 'ies'} of {dimension.label}: α is "
                "undefined without variation; add test items coded otherwise."
            )
    return warnings


def _check_warnings(project: Project, rows: list[Row]) -> list[str]:
    spans = [row.item.span_id for row in rows if not row.older]
    if not spans:
        return []
    open_spans = set(
        WorkItem.objects.filter(project=project, span_id__in=spans)
        .exclude(taken__gte=F("target"))
        .values_list("span_id", flat=True)
    )
    pool_id = pool.pool_id(project)
    placed = set(
        WorkItem.objects.filter(project_id=pool_id, span_id__in=spans).values_list(
            "span_id", flat=True
        )
        if pool_id
        else ()
    )
    for row in rows:
        row.open_in_queue = row.item.span_id in open_spans
    warnings = []
    if open_spans:
        warnings.append(
            f"{len(open_spans)} check item{'s' * (len(open_spans) != 1)} "
            f"{'are' if len(open_spans) != 1 else 'is'} still open in the study's "
            "queue: a check is served only once its span is fully coded there."
        )
    unplaced = len(set(spans) - placed)
    if unplaced:
        warnings.append(
            f"{unplaced} check item{'s have' if unplaced != 1 else ' has'} no place "
            "in the reference pool and cannot be served; save each once to place it."
        )
    return warnings


def listing(project: Project) -> Listing:
    """Every reference item of the project, grouped by use, with the warnings."""
    items = (
        ReferenceItem.objects.filter(project=project)
        .select_related("span__document", "created_by")
        .order_by("use", "span__document_id", "span__index", "pk")
    )
    read = cache(codebook_dimensions)  # one reading per version (one not in use
    # yet is otherwise read again for each item)
    groups = {use: UseGroup(use, label) for use, label in Use.choices}
    retired: list[Row] = []
    older = 0
    for item in items:
        row = Row(item, shown_codes(item.codebook_id, item.codes, read))
        if item.codebook_id != project.codebook_id:
            row.older = True
            row.carry = carry_problem(item, project.codebook_id, read)
        if item.retired_at is not None:
            retired.append(row)
            continue
        older += row.older
        groups[item.use].rows.append(row)
    warnings = _test_warnings(read(project.codebook_id), groups[Use.TEST].rows)
    warnings += _check_warnings(project, groups[Use.CHECK].rows)
    if older:
        fits = sum(
            1 for g in groups.values() for r in g.rows if r.older and not r.carry
        )
        warnings.append(
            f"{older} item{'s are' if older != 1 else ' is'} on an older codebook "
            f"version and not served: {fits} can be carried to the current version "
            f"as {'they are' if fits != 1 else 'it is'} (open each), "
            f"{older - fits} need their codes given again."
        )
    return Listing(list(groups.values()), retired, warnings)
