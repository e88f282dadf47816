"""One dimension's ratings through the project's rules, with their provenance.

The rules are annotator.gold_maths; each decided span gets its agreement and the
coders' codes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from django.core.exceptions import ValidationError

from annotator import gold_maths
from annotator.gold.reading import Ratings
from annotator.models import (
    Dimension,
    Project,
    gold_methods_problem,
)

# Posteriors and agreements are stored rounded: a model refit after one new
# annotation moves every posterior in the 7th decimal, and rewriting a million
# rows (and their updated_at, which clients sync on) for that would be noise.
DIGITS = 4


def gold_settings(project: Project) -> tuple[list[str], float, float]:
    """The project's rules and thresholds; ValidationError names a bad setting.

    ``gold_methods`` is free JSON (editable in the admin), so it is checked here,
    before any work, rather than failing deep in the maths.
    """
    methods = project.gold_methods or []
    problem = gold_methods_problem(methods)
    if problem:
        raise ValidationError(
            {"gold_methods": f"Project {project.pk}: gold_methods {problem}"}
        )
    return list(methods), project.gold_min_share, project.gold_min_posterior


@dataclass
class Decided:
    """One dimension's automatic decisions, one entry per decided span."""

    spans: np.ndarray
    # Category id per span (single-choice, an array), or a list of ids per span.
    categories: np.ndarray | list[list[int]]
    methods: np.ndarray  # method names (object array)
    posteriors: np.ndarray  # nan without a model
    n_ratings: np.ndarray
    agreement: np.ndarray
    coder_codes: CoderCodes  # JSON text per span
    n_undecided: int
    # The model's fit, when one ran: converged, iterations, {coder id: accuracy}
    # (multi-choice: every category's binary fit converged, the most iterations,
    # each coder's mean accuracy over the categories).
    fit: tuple[bool, int, dict[str, float]] | None = None
    # The model's confusion matrix per coder (single-choice dimensions):
    # {coder id: {"categories": [keys], "matrix": [[P(said | truth)]]}}.
    confusion: dict[str, dict] = field(default_factory=dict)


def confusion_of(
    model: gold_maths.DawidSkeneResult, keys: Sequence[str]
) -> dict[str, dict]:
    """{coder id: {"categories": keys, "matrix": rows of P(said | truth)}} of a
    fitted model, rounded (GoldRun.coder_confusion; training.coders reads it)."""
    return {
        str(coder): {
            "categories": list(keys),
            "matrix": [[round(float(p), DIGITS) for p in row] for row in matrix],
        }
        for coder, matrix in zip(model.coders.tolist(), model.confusion, strict=True)
    }


def _fit(models: Sequence[gold_maths.DawidSkeneResult]) -> tuple | None:
    if not models:
        return None
    accuracy: dict[str, list[float]] = {}
    for model in models:
        for coder, a in zip(model.coders.tolist(), model.accuracy, strict=True):
            accuracy.setdefault(str(coder), []).append(float(a))
    return (
        all(m.converged for m in models),
        max(m.n_iter for m in models),
        {c: round(sum(a) / len(a), DIGITS) for c, a in accuracy.items()},
    )


def _indicators(values: np.ndarray, k: int) -> np.ndarray:
    """Per rating, the bool row of chosen scale positions (from frozensets)."""
    rows: dict[frozenset, np.ndarray] = {}
    out = np.zeros((len(values), k), dtype=bool)
    for i, chosen in enumerate(values):
        row = rows.get(chosen)
        if row is None:
            row = rows[chosen] = np.zeros(k, dtype=bool)
            row[list(chosen)] = True
        out[i] = row
    return out


@dataclass(frozen=True)
class CoderCodes:
    """{coder id: [category keys]} of each decided span as JSON text, made a
    batch of spans at a time (``batch``): a million spans' texts at once were
    a few hundred megabytes of Python strings.

    Built as text directly, coders in id order; the format equals
    ``json.dumps`` of the same dict, so the SQLite comparison of unchanged rows
    (text) holds, and PostgreSQL compares jsonb.
    """

    coders: np.ndarray  # per rating, sorted by (span, coder)
    text_code: np.ndarray  # per rating, its key list's index in ``texts``
    texts: list[str]  # key lists as JSON
    starts: np.ndarray  # per decided span, its ratings' range in the above
    ends: np.ndarray

    def batch(self, a: int, b: int) -> list[str]:
        """The texts of decided spans ``a`` to ``b`` (exclusive)."""
        if a >= b:
            return []
        low, high = int(self.starts[a]), int(self.ends[b - 1])
        texts = self.texts
        pieces = [
            f'"{c}": {texts[t]}'
            for c, t in zip(
                self.coders[low:high].tolist(),
                self.text_code[low:high].tolist(),
                strict=True,
            )
        ]
        return [
            "{" + ", ".join(pieces[s - low : e - low]) + "}"
            for s, e in zip(
                self.starts[a:b].tolist(), self.ends[a:b].tolist(), strict=True
            )
        ]


def _coder_codes(
    unit_code: np.ndarray,
    coders: np.ndarray,
    text_code: np.ndarray,
    texts: list[str],
    units: np.ndarray,
) -> CoderCodes:
    """The coder codes of each of ``units`` (codes); ``texts[text_code[i]]`` is
    rating i's key list as JSON."""
    order = np.lexsort((coders, unit_code))
    sorted_units = unit_code[order]
    return CoderCodes(
        coders[order],
        text_code[order],
        texts,
        np.searchsorted(sorted_units, units, side="left"),
        np.searchsorted(sorted_units, units, side="right"),
    )


def aggregate_dimension(
    project: Project,
    dimension: Dimension,
    ratings: Ratings,
    sample: np.ndarray,
) -> Decided:
    """Apply the project's rules to one dimension's ratings."""
    methods, min_share, min_posterior = gold_settings(project)
    scale = ratings.categories
    k = len(scale)
    multiple = ratings.level == "set"
    units, coders = ratings.unit, ratings.coder
    if multiple:
        chosen = _indicators(ratings.value, k)
    options = {
        "methods": methods,
        "min_share": min_share,
        "min_posterior": min_posterior,
    }
    if not len(units) or not methods:
        empty = np.zeros(0, dtype=np.int64)
        return Decided(
            empty, [], empty.astype(object), empty.astype(float), empty, empty,
            _coder_codes(empty, empty, empty, [], empty), len(np.unique(units)),
        )  # fmt: skip
    if multiple:
        d = gold_maths.aggregate_sets(
            units, coders, chosen, allow_empty=not dimension.required, **options
        )
    else:
        d = gold_maths.aggregate(units, coders, ratings.value, k, **options)
    # The fit's summary is all that is kept of the model: its posteriors (one
    # (n_units, k) array, 48 MB at a million spans) go before the provenance
    # below is built.
    fit = _fit([d.model] if d.model is not None else d.category_models)
    confusion = {} if d.model is None else confusion_of(d.model, [c.key for c in scale])
    d = replace(d, model=None, category_models=())
    decided = d.decided.copy()
    # "single" is for spans outside the reliability sample: a sample span with
    # one rating so far waits for its other coders.
    if "single" in methods and len(sample):
        single = d.methods == gold_maths.METHODS.index("single")
        decided &= ~(single & np.isin(d.units, sample))
    unit_code = np.searchsorted(d.units, units)
    # Share of each unit's ratings equal to its gold value.
    if multiple:
        same = (chosen == d.values[unit_code]).all(axis=1)
    else:
        same = ratings.value == d.values[unit_code]
    agreement = np.bincount(unit_code, same, len(d.units)) / np.maximum(d.n_ratings, 1)
    key_of = [c.key for c in scale]
    idx = np.flatnonzero(decided)
    id_of = np.array([c.pk for c in scale], dtype=np.int64)
    if multiple:
        # One JSON text per distinct set of codes (few), indexed per rating.
        distinct: dict[frozenset, int] = {}
        text_code = np.fromiter(
            (distinct.setdefault(v, len(distinct)) for v in ratings.value),
            dtype=np.int64,
            count=len(ratings.value),
        )
        texts = [json.dumps(sorted(key_of[p] for p in v)) for v in distinct]
        categories: np.ndarray | list = [
            id_of[np.flatnonzero(d.values[i])].tolist() for i in idx
        ]
    else:
        text_code = ratings.value
        texts = [json.dumps([key]) for key in key_of]
        categories = id_of[d.values[idx]]
    codes = _coder_codes(unit_code, coders, text_code, texts, idx)
    return Decided(
        d.units[idx],
        categories,
        d.method_names[idx],
        d.posteriors[idx],
        d.n_ratings[idx],
        agreement[idx],
        codes,
        int(len(d.units) - len(idx)),
        fit,
        confusion,
    )
