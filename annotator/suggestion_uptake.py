"""How coders took up the machine's suggestions: shown, kept, and right or wrong.

Anchoring (issue 18): a coder shown the machine's codes may keep them because
they are right or because they were there. The share kept says how often; where
gold made independently of the coder exists for such spans, the accuracy of
kept and of changed suggestions says whether keeping was judgement. "Single"
gold is left out: on a span one coder coded it is that coder's own code, so
it would score every annotation right.
"""

from __future__ import annotations

from collections import defaultdict

from annotator.models import (
    Annotation,
    GoldLabel,
    GoldLabelCategory,
    GoldMethod,
    Label,
    Project,
)

# Gold that does not simply repeat the one coder's code.
INDEPENDENT_GOLD = tuple(m for m in GoldMethod.values if m != GoldMethod.SINGLE)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _gold_sets(project: Project, spans) -> dict[tuple[int, int], frozenset[int]]:
    """{(span, dimension): gold category ids} of the spans' independent gold."""
    gold = GoldLabel.objects.filter(
        project=project, method__in=INDEPENDENT_GOLD, span_id__in=spans
    )
    sets: dict[tuple[int, int], set[int]] = {}
    by_pk = {}
    for pk, span, dimension, category in gold.values_list(
        "pk", "span_id", "dimension_id", "category_id"
    ):
        sets[span, dimension] = {category} if category is not None else set()
        by_pk[pk] = (span, dimension)
    for pk, category in GoldLabelCategory.objects.filter(
        gold_label__in=gold
    ).values_list("gold_label_id", "category_id"):
        sets[by_pk[pk]].add(category)
    return {key: frozenset(value) for key, value in sets.items()}


def accuracy_against_gold(project: Project) -> dict:
    """Of the annotations shown a suggestion whose span has independent gold:
    how many kept / changed it, and the share right on every gold dimension."""
    shown = Annotation.objects.filter(project=project).suggested()
    gold = _gold_sets(project, shown.values("assignment__span_id"))
    spans_with_gold = {span for span, _ in gold}
    kept_by_annotation = {
        pk: (span, kept)
        for pk, span, kept in shown.values_list(
            "pk", "assignment__span_id", "suggestion_kept"
        )
        if span in spans_with_gold
    }
    chosen: dict[tuple[int, int], set[int]] = defaultdict(set)
    for annotation, dimension, category in Label.objects.filter(
        annotation_id__in=list(kept_by_annotation)
    ).values_list("annotation_id", "dimension_id", "category_id"):
        chosen[annotation, dimension].add(category)
    dimensions_of = defaultdict(list)
    for span, dimension in gold:
        dimensions_of[span].append(dimension)
    tally = {True: [0, 0], False: [0, 0]}  # kept?: [annotations, right]
    for pk, (span, kept) in kept_by_annotation.items():
        right = all(
            frozenset(chosen.get((pk, d), ())) == gold[span, d]
            for d in dimensions_of[span]
        )
        tally[kept][0] += 1
        tally[kept][1] += right
    return {
        name: {"n": n, "correct": right, "accuracy": _share(right, n)}
        for name, (n, right) in (("kept", tally[True]), ("changed", tally[False]))
    }


def uptake(project: Project) -> dict:
    """The project's suggestion uptake, overall and per coder, with accuracy
    against independent gold: what the API's "suggestions" and the
    _suggestion_uptake.html partial show."""
    by_coder = [
        {"coder": name, "shown": n, "kept": kept, "kept_share": _share(kept, n)}
        for name, n, kept in Annotation.objects.filter(
            project=project
        ).suggestion_counts_by_coder()
    ]
    shown = sum(row["shown"] for row in by_coder)
    kept = sum(row["kept"] for row in by_coder)
    return {
        "on": project.machine_suggestions,
        "shown": shown,
        "kept": kept,
        "kept_share": _share(kept, shown),
        "by_coder": by_coder,
        "gold": accuracy_against_gold(project) if shown else None,
        "gold_methods": list(INDEPENDENT_GOLD),
    }
