"""What a codebook move keeps of the codes it takes: a revision per annotation.

Split from ``codebook_move`` for length; ``move_codebook`` calls it in its
transaction, before the codes go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from annotator.models import Annotation, AnnotationRevision, Label

if TYPE_CHECKING:
    from annotator.services.codebook_move import MovePlan

BATCH = 5_000  # ids per statement, revisions per INSERT


def chunks(ids: list[int], size: int = BATCH) -> Iterator[list[int]]:
    """The ids a statement at a time."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def keep_old_codes(plan: MovePlan, recoded_ids: list[int], by) -> None:
    """An AnnotationRevision per annotation to code again or losing codes on a
    removed dimension: its codes before the move (and the version), and what
    is left of them after."""
    changed_by = by if by is not None and by.is_authenticated else None
    for part in chunks(recoded_ids):
        codes: dict[int, list[tuple[str, str, bool]]] = {}
        for annotation_id, d_key, c_key, category_id in (
            Label.objects.filter(annotation_id__in=part)
            .order_by("annotation_id", "dimension__position", "category__position")
            .values_list(
                "annotation_id", "dimension__key", "category__key", "category_id"
            )  # fmt: skip
        ):
            codes.setdefault(annotation_id, []).append(
                (d_key, c_key, category_id in plan.recode_categories)
            )
        revisions = []
        for pk, uncertain, comment in Annotation.objects.filter(
            pk__in=part
        ).values_list("pk", "uncertain", "comment"):
            mine = codes.get(pk, [])
            redo = sorted({d for d, _, changed in mine if changed})
            gone = set(redo) | set(plan.dropped.values())
            state = {"uncertain": uncertain, "comment": comment}
            revisions.append(
                AnnotationRevision(
                    annotation_id=pk,
                    changed_by=changed_by,
                    old={
                        **state,
                        "labels": _keys(mine),
                        "codebook_version": plan.old.version,
                    },
                    new={
                        **state,
                        "labels": _keys([c for c in mine if c[0] not in gone]),
                        "codebook_version": plan.new.version,
                        "to_code_again": redo,
                    },
                )  # fmt: skip
            )
        AnnotationRevision.objects.bulk_create(revisions, batch_size=1_000)


def _keys(codes) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d_key, c_key, _ in codes:
        out.setdefault(d_key, []).append(c_key)
    return {key: sorted(values) for key, values in out.items()}
