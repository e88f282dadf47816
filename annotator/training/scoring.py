"""Scoring against the reference: per-dimension matches, and agreement with it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from annotator.agreement import krippendorff_alpha, percent_agreement

Codes = Mapping[str, Sequence[str]]
REFERENCE, CODER = "reference", "coder"  # the two coders of every item


def matches(reference: Codes, given: Codes) -> dict[str, bool]:
    """{dimension key: did the answer give exactly the reference's categories}.

    Compared by keys (a category keeps its key across codebook versions) and as
    sets (the order of a multi-choice answer means nothing). A dimension the
    reference leaves empty matches an empty answer.
    """
    return {
        key: set(expected) == set(given.get(key) or ())
        for key, expected in reference.items()
    }


@dataclass(frozen=True)
class DimResult:
    """A coder's agreement with the reference on one dimension."""

    alpha: float | None
    percent: float | None
    n: int
    level: str
    passed: bool
    reason: str = ""

    def as_json(self) -> dict:
        """What an attempt keeps in ``results`` (None for an undefined figure)."""
        return asdict(self)


def agreement_with_reference(
    dims, pairs, *, min_alpha: float = 0.8, min_percent: float | None = None
) -> dict[str, DimResult]:
    """Per dimension, Krippendorff's α and percent agreement of coder vs reference.

    ``dims`` the codebook's dimensions (``services.codebook_dimensions`` values),
    ``pairs`` [(reference codes, answer codes)], both {dimension key: [category
    keys]}. Units are the items, the coders {coder, reference}; α at the
    dimension's level, ``set`` (MASI) for a multi-choice dimension, as the
    agreement report reads one (one rating per item: the set chosen, empty if
    none); a single-choice dimension left empty is a missing rating. A pass
    needs α ≥ ``min_alpha`` and, when given, percent ≥ ``min_percent`` (0–1).
    An undefined α (nothing to compare, or no variation) fails, said in words.
    """
    return {dim.key: _dimension(dim, pairs, min_alpha, min_percent) for dim in dims}


def _scale(dim) -> list[str] | None:
    """The dimension's category keys in scale order (ordinal: by value when every
    category has one), or None when its categories are not loaded."""
    categories = list(getattr(dim, "category_map", {}).values())
    if not categories:
        return None
    if dim.level == "ordinal" and all(c.value is not None for c in categories):
        categories = sorted(categories, key=lambda c: (c.value, c.position, c.pk))
    return [c.key for c in categories]


def _dimension(dim, pairs, min_alpha: float, min_percent: float | None) -> DimResult:
    is_set = bool(dim.multiple)
    level = "set" if is_set else str(dim.level)
    units, coders, values = [], [], []
    for unit, (reference, given) in enumerate(pairs):
        for coder, codes in ((REFERENCE, reference), (CODER, given)):
            chosen = list((codes or {}).get(dim.key) or ())
            units.append(unit)
            coders.append(coder)
            values.append(frozenset(chosen) if is_set else (chosen or [None])[0])
    scale = _scale(dim)
    if scale is not None:
        seen = {v for value in values for v in (value if is_set else [value])}
        scale += sorted(str(v) for v in seen - set(scale) - {None})
    if not any(v is not None for v in values):
        alpha = percent = math.nan
        n = 0
    else:
        result = krippendorff_alpha(
            units, coders, values, level=level, categories=None if is_set else scale
        )
        alpha, n = result.value, result.n_units
        percent = percent_agreement(units, coders, values, categories=scale).value
    return _judged(level, alpha, percent, n, min_alpha, min_percent)


def _judged(level, alpha, percent, n, min_alpha, min_percent) -> DimResult:
    alpha = None if alpha is None or math.isnan(alpha) else float(alpha)
    percent = None if percent is None or math.isnan(percent) else float(percent)
    if n == 0:
        reason = "no item has both a reference code and an answer here"
    elif alpha is None:
        reason = (
            "α is undefined: the reference and the answers use a single category "
            "throughout, so there is no variation to judge agreement beyond chance"
        )
    elif alpha < min_alpha:
        reason = f"α {alpha:.2f} is below the threshold {min_alpha:.2f}"
    elif min_percent is not None and (percent is None or percent < min_percent):
        reason = f"agreement {percent or 0:.0%} is below the required {min_percent:.0%}"
    else:
        reason = ""
    return DimResult(alpha, percent, n, level, passed=not reason, reason=reason)
