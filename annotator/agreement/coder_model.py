"""The exchangeable coder model: simulated ratings with known population coefficients.

There are q categories with prior pi. Each unit has a true category T ~ pi;
each coder independently reports T with probability r and otherwise a fresh
draw from pi; each rating is then missing completely at random with
probability ``missing``. Every rating's marginal is pi, and two ratings of one
unit have the joint P(c, k) = r^2 pi_c [c = k] + (1 - r^2) pi_c pi_k, so for
any difference function with delta(c, c) = 0, D_o = (1 - r^2) D_e and the
population alpha is r^2 at every level of measurement. With agreement weights
W (identity or quadratic) the population percent agreement is
p_a = r^2 + (1 - r^2) pi' W pi; Fleiss', Conger's, Cohen's kappa and Scott's
pi equal r^2 (the coders share the marginal pi); Gwet's AC1/AC2 and
Brennan-Prediger use p_e = T_W / (q (q - 1)) sum pi (1 - pi) and T_W / q^2,
T_W the sum of the weights (Gwet 2014, ch. 2-4). A design fixes
(n units, m coders, pi, target alpha, missing, level); the model's r is
sqrt(target alpha). Used by ``bench/coverage.py`` to measure how often the
engine's intervals cover these values. See docs/design/reliability-report.md §2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL_WEIGHTS = {"nominal": "identity", "ordinal": "quadratic"}


@dataclass(frozen=True)
class Design:
    """One simulated study's shape: units, coders, prior, target alpha, missing."""

    n_units: int
    n_coders: int
    prior: tuple[float, ...]
    alpha: float
    missing: float = 0.0
    level: str = "nominal"  # "nominal" (identity weights) or "ordinal" (quadratic)
    name: str = ""

    def __post_init__(self) -> None:
        p = np.asarray(self.prior, dtype=float)
        if len(p) < 2 or (p <= 0).any() or abs(p.sum() - 1.0) > 1e-9:
            raise ValueError(f"prior must be >= 2 positive shares summing to 1: {p}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError("the model's alpha = r^2 lies in [0, 1]")
        if not 0.0 <= self.missing < 1.0:
            raise ValueError("missing must be in [0, 1)")
        if self.level not in LEVEL_WEIGHTS:
            raise ValueError(f"level must be one of {tuple(LEVEL_WEIGHTS)}")
        if self.n_units < 1 or self.n_coders < 2:
            raise ValueError("a design needs at least one unit and two coders")

    @property
    def q(self) -> int:
        return len(self.prior)

    @property
    def r(self) -> float:
        """Probability that a coder reports the unit's true category."""
        return math.sqrt(self.alpha)

    @property
    def weights(self) -> str:
        """The kappa family's agreement weights for this level."""
        return LEVEL_WEIGHTS[self.level]

    @property
    def categories(self) -> list[int]:
        """The ordered scale 0..q-1 (pass to the engine so unused categories count)."""
        return list(range(self.q))


def weight_matrix(name: str, q: int) -> np.ndarray:
    """Identity or quadratic agreement weights on positions 0..q-1 (Cohen 1968)."""
    if name == "identity":
        return np.eye(q)
    pos = np.arange(q, dtype=float)
    return 1.0 - ((pos[:, None] - pos[None, :]) / (q - 1)) ** 2


def population_values(design: Design) -> dict[str, float]:
    """Each coefficient's population value under the design, keyed as the engine.

    Keys: ``krippendorff_alpha``, ``percent_agreement``, ``fleiss_kappa``,
    ``conger_kappa``, ``scott_pi``, ``cohen_kappa``, ``gwet`` (AC1 with
    identity weights, AC2 with quadratic) and ``brennan_prediger``.
    """
    pi = np.asarray(design.prior, dtype=float)
    q, r2 = design.q, design.alpha
    w = weight_matrix(design.weights, q)
    pa = r2 + (1.0 - r2) * float(pi @ w @ pi)
    pe_gwet = w.sum() / (q * (q - 1)) * float(np.sum(pi * (1.0 - pi)))
    pe_bp = w.sum() / q**2
    return {
        "krippendorff_alpha": r2,
        "percent_agreement": pa,
        "fleiss_kappa": r2,
        "conger_kappa": r2,
        "scott_pi": r2,
        "cohen_kappa": r2,
        "gwet": (pa - pe_gwet) / (1.0 - pe_gwet),
        "brennan_prediger": (pa - pe_bp) / (1.0 - pe_bp),
    }


def simulate(
    design: Design, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One study's ratings as the engine's three parallel columns (unit, coder, value).

    Units are 0..n-1, coders 0..m-1 and values positions 0..q-1 on the
    design's scale; a missing rating is an absent row. Pass
    ``categories=design.categories`` to the engine so that a category nobody
    used still counts in q.
    """
    n, m = design.n_units, design.n_coders
    cum = np.cumsum(design.prior)
    cum[-1] = 1.0
    truth = np.searchsorted(cum, rng.random(n), side="right")
    fresh = np.searchsorted(cum, rng.random((n, m)), side="right")
    values = np.where(rng.random((n, m)) < design.r, truth[:, None], fresh)
    keep = rng.random((n, m)) >= design.missing
    units = np.broadcast_to(np.arange(n)[:, None], (n, m))[keep]
    coders = np.broadcast_to(np.arange(m)[None, :], (n, m))[keep]
    return units, coders, values[keep]
