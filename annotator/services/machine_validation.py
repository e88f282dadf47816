"""A machine coder validated like a coder: vs the gold, beside the humans, by gold size.

Per dimension, from one set of grouped out-of-fold predictions (no span is ever
predicted by a model that saw its document): alpha vs the gold with its
interval and the category scores (``annotator.machine.validation.validate``);
alpha of the model vs each human coder on the reliability sample beside the
coders' own alpha on the same spans (``coder_comparison``); and a learning
curve with a plain reading of whether more hand coding would still help.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model

from annotator.models import Dimension, MachineCoder, Project, WorkItem
from annotator.ratings.arrays import read_project
from annotator.services.machine_gold import Code, TrainingSet
from corpus.models import Span

# The learning curve's cheaper points: the gold's first third and two thirds
# (whole documents, in a seeded order) with 3 folds each; its last point is the
# full validation's (k folds). Six fits more per dimension, about what the
# validation itself costs (k fits and the final one).
CURVE_FRACTIONS = (1 / 3, 2 / 3)
CURVE_K = 3
# The last step of the curve rising by at least this much (alpha) reads "rising".
RISING = 0.02


@dataclass
class SampleRatings:
    """One dimension's human codes on the reliability sample's spans coded by
    two or more coders, and what the model needs to predict the spans the gold
    lacks (a tie no one settled yet, a held-out span)."""

    ratings: list[tuple[int, int, Code]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # the engine's scale
    unseen: list[tuple[int, str, int]] = field(default_factory=list)  # span, text, doc


def sample_ratings(
    project: Project, sets: dict[str, TrainingSet]
) -> dict[str, SampleRatings]:
    """Each trained dimension's human ratings on the reliability sample, read as
    the agreement engine reads them (its codebook version's annotations, its
    scale): three queries and the engine's reads."""
    dimensions: list[Dimension] = [data.dimension for data in sets.values()]
    sample = set(
        WorkItem.objects.filter(project=project, in_sample=True).values_list(
            "span_id", flat=True
        )
    )
    in_sample = np.fromiter(sample, dtype=np.int64, count=len(sample))
    _, arrays = read_project(
        project, dimensions, documents=False, times=False, version_only=True
    )
    found: dict[str, SampleRatings] = {}
    missing: set[int] = set()
    for dimension, data in zip(dimensions, arrays, strict=True):
        keys = [c.key for c in data.categories]
        counts: dict[int, int] = {}
        rows = []
        inside = np.flatnonzero(np.isin(data.unit, in_sample))
        for unit, coder, value in zip(
            data.unit[inside].tolist(),
            data.coder[inside].tolist(),
            data.value[inside],
            strict=True,
        ):
            code = (
                frozenset(keys[v] for v in value)
                if data.level == "set"
                else keys[value]
            )
            rows.append((unit, int(coder), code))
            counts[unit] = counts.get(unit, 0) + 1
        shared = {u for u, n in counts.items() if n >= 2}
        found[dimension.key] = SampleRatings([r for r in rows if r[0] in shared], keys)
        missing |= shared - set(sets[dimension.key].span_ids)
    texts = dict(
        (pk, (text, document))
        for pk, text, document in Span.objects.filter(pk__in=missing).values_list(
            "pk", "text", "document_id"
        )
    )
    for key, ratings in found.items():
        trained = set(sets[key].span_ids)
        units = sorted({u for u, _, _ in ratings.ratings} - trained)
        ratings.unseen = [(u, *texts[u]) for u in units]
    return found


def _curve_reading(points: list[dict]) -> tuple[str, str]:
    """("rising" | "flat" | "falling" | "undetermined", a sentence to print)."""
    defined = [p for p in points if p["alpha"] is not None]
    if len(defined) < 2:
        return "undetermined", (
            "Too little gold for a learning curve: it needs two subsets of whole "
            "documents with at least two categories each."
        )
    before, last = defined[-2], defined[-1]
    gain = last["alpha"] - before["alpha"]
    step = (
        f"α went from {before['alpha']:.3f} to {last['alpha']:.3f} as the models "
        f"learned from about {before['n_trained']} then {last['n_trained']} gold spans"
    )
    if gain >= RISING:
        return "rising", (
            f"Still rising: {step}. More hand-coded gold would likely still help."
        )
    if gain <= -RISING:
        return "falling", (
            f"No gain in the last step: {step}. At this size the curve is noisy; "
            "it gives no sign that more gold of the same kind would help."
        )
    return "flat", (
        f"Flat: {step} (less than {RISING} apart). More hand coding of the same "
        "kind is unlikely to improve the model much."
    )


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _point(n_gold: int, k: int, n_documents: int, alpha: float) -> dict:
    folds = min(k, n_documents)
    return {
        "n_gold": n_gold,
        "folds": folds,
        # What each fold's model learned from, about: the x a curve is read by.
        "n_trained": round(n_gold * (folds - 1) / folds),
        "alpha": _number(alpha),
    }


def learning_curve(data: TrainingSet, make, *, level, categories, full, k, seed):
    """The curve's points (subsets by whole documents; the full gold's point is
    the validation's own, ``full``) and its reading."""
    from annotator.machine import validation

    n = len(data)
    sizes = [round(n * f) for f in CURVE_FRACTIONS if round(n * f) < n]
    subsets = validation.learning_curve(
        make, data.texts, data.labels, data.documents, sizes=sizes, seed=seed,
        k=CURVE_K, level=level, categories=categories,
    )  # fmt: skip
    by_rank = _documents_in_order(data.documents, seed)
    points = [
        _point(cut, CURVE_K, len(set(by_rank[:cut])), alpha)
        for cut, alpha in subsets
        if cut < n
    ]
    points.append(_point(n, k, len(set(data.documents)), full))
    trend, reading = _curve_reading(points)
    return {"points": points, "trend": trend, "reading": reading, "curve_k": CURVE_K}


def _documents_in_order(documents: Sequence[Any], seed: int) -> list[str]:
    """Each span's document in the order learning_curve takes them (the same
    seeded permutation of documents), to count a subset's documents."""
    group_list = [str(g) for g in documents]
    names = list(dict.fromkeys(group_list))
    order = np.random.default_rng(seed).permutation(len(names))
    rank = {names[g]: r for r, g in enumerate(order)}
    return sorted(group_list, key=lambda g: rank[g])


def validate_dimension(
    data: TrainingSet,
    make: Callable[[], object],
    sample: SampleRatings,
    *,
    k: int,
    seed: int,
    progress: Callable[[str], None] = lambda words: None,
) -> dict:
    """One dimension's stored validation: vs gold, ``vs_coders`` and
    ``learning_curve`` (``progress(words)`` before the curve's fits)."""
    from annotator.machine import validation

    unseen = [(text, document) for _, text, document in sample.unseen]
    oof = validation.out_of_fold(
        make, data.texts, data.labels, data.documents, k=k, seed=seed, unseen=unseen
    )
    dimension = data.dimension
    level = "set" if dimension.multiple else dimension.level
    # The engine's scale (sample_ratings read it: ratings.scales.category_scale),
    # so vs gold, vs the coders and the curve share one category order.
    result = validation.validate(
        data.labels, list(oof.predicted), sample.categories, level, seed=seed
    )
    result["n_train"] = len(data)
    result["n_documents"] = len(set(data.documents))
    # Every key the comparison uses is out of fold: a gold span's from the fold
    # that held its document out, a span the gold lacks from a fold model that
    # never saw its document either.
    model_by_unit = {
        **dict(zip(data.span_ids, oof.predicted, strict=True)),
        **{
            span: key
            for (span, _, _), key in zip(
                sample.unseen, oof.unseen_predicted, strict=True
            )
        },
    }
    result["vs_coders"] = validation.coder_comparison(
        model_by_unit, sample.ratings, level, sample.categories, seed=seed
    )
    result["vs_coders"]["n_out_of_gold"] = len(sample.unseen)
    progress("learning curve")
    full = result["alpha_vs_gold"]
    result["learning_curve"] = learning_curve(
        data, make, level=level, categories=sample.categories,
        full=math.nan if full is None else full, k=k, seed=seed,
    )  # fmt: skip
    return result


def coder_names(coder: MachineCoder) -> dict[str, str]:
    """{user id (text, as stored): username} of the coders its validation
    compares the model with: one query. For reviewers and managers only, as the
    agreement dashboard's names are (``annotator.access``)."""
    ids = {
        int(user)
        for figures in coder.validation.values()
        for user in figures.get("vs_coders", {}).get("by_coder", {})
    }
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    return {str(pk): name for pk, name in users}
