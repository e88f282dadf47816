"""Scoring against the reference: per-dimension matches, and agreement with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Codes = Mapping[str, Sequence[str]]


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


def agreement_with_reference(dims, pairs) -> dict[str, DimResult]:
    """Per dimension, Krippendorff's α and percent agreement of coder vs reference.

    Built by the practice-and-certification work (training.rounds); the contract:
    ``dims`` the codebook's dimensions, ``pairs`` [(reference codes, answer
    codes)], both {dimension key: [category keys]}.
    """
    raise NotImplementedError
