"""The records the rules and the model return."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._input import METHODS, UNDECIDED, Ratings


@dataclass(frozen=True)
class GoldRow:
    """What one unit got: value (a category code, or a frozenset of codes for a
    set-valued dimension; None when undecided), the rule that decided it, the
    model posterior of that value (None without a model) and its rating count."""

    unit: int
    value: int | frozenset[int] | None
    method: str | None
    posterior: float | None
    n_ratings: int


@dataclass(frozen=True)
class GoldDecisions:
    """Per-unit decisions as parallel arrays (one entry per unit with a rating).

    ``values`` is int64 codes with ``UNDECIDED`` (-1), or for set-valued
    dimensions an (n_units, n_categories) bool matrix; ``methods`` indexes
    ``METHODS`` (-1 undecided); ``posteriors`` is nan without a model.
    Arrays keep a million units cheap; ``rows()`` gives one record per unit.
    """

    units: np.ndarray
    values: np.ndarray
    methods: np.ndarray
    posteriors: np.ndarray
    n_ratings: np.ndarray
    model: DawidSkeneResult | None = None
    category_methods: np.ndarray | None = None  # sets: (n_units, K) method codes
    category_models: tuple[DawidSkeneResult, ...] = ()  # sets: one binary fit per k

    def __len__(self) -> int:
        return len(self.units)

    @property
    def decided(self) -> np.ndarray:
        """Boolean mask of units some rule decided."""
        return self.methods != UNDECIDED

    @property
    def undecided_units(self) -> np.ndarray:
        """Unit ids no rule decided: these go to adjudication."""
        return self.units[~self.decided]

    @property
    def method_names(self) -> np.ndarray:
        """Method name per unit (None when undecided), as an object array."""
        names = np.array([*METHODS, None], dtype=object)
        return names[self.methods]  # -1 picks the trailing None

    def rows(self) -> Iterator[GoldRow]:
        """One GoldRow per unit, in ascending unit id order."""
        names = self.method_names
        for i in range(len(self.units)):
            m = int(self.methods[i])
            if m == UNDECIDED:
                value: int | frozenset[int] | None = None
            elif self.values.ndim == 2:
                value = frozenset(np.flatnonzero(self.values[i]).tolist())
            else:
                value = int(self.values[i])
            p = float(self.posteriors[i])
            yield GoldRow(
                int(self.units[i]),
                value,
                names[i],
                None if p != p else p,
                int(self.n_ratings[i]),
            )


@dataclass(frozen=True)
class DawidSkeneResult:
    """A fitted Dawid-Skene model.

    ``posterior[i, k]`` = P(true class of ``units[i]`` is k | all ratings);
    ``confusion[j, k, l]`` = P(coder ``coders[j]`` says l | true class k);
    ``accuracy[j]`` = sum_k priors[k] confusion[j, k, k], the chance that coder
    j is right on a random unit. ``labels`` is the MAP class, ``map_posterior``
    its probability. ``log_likelihood`` is the marginal log-likelihood of the
    ratings under the parameters that produced ``posterior``.
    """

    units: np.ndarray
    coders: np.ndarray
    posterior: np.ndarray
    labels: np.ndarray
    map_posterior: np.ndarray
    priors: np.ndarray
    confusion: np.ndarray
    accuracy: np.ndarray
    n_iter: int
    converged: bool
    log_likelihood: float


def empty(r: Ratings) -> GoldDecisions:
    """Every unit of ``r`` undecided (fresh arrays the rules fill in)."""
    n = len(r.unit_ids)
    return GoldDecisions(
        r.unit_ids,
        np.full(n, UNDECIDED, np.int64),
        np.full(n, UNDECIDED, np.int8),
        np.full(n, np.nan),
        r.n_ratings,
    )
