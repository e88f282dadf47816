"""Log-disagreement jackknife intervals and the withholding rule on few disagreements.

Pure numpy. Every coefficient here has the form 1 - theta = observed
disagreement / chance disagreement (alpha: D_o / D_e; percent agreement:
1 - p_a; the kappa family: (1 - p_a) / (1 - p_e)), so log(1 - theta) is a
difference of logs whose sampling distribution is far less skewed than
theta's when disagreements are rare or, under quadratic weights, dominated by
a few distant ones. The interval is a normal interval on that scale with a
delete-a-group jackknife standard error (Quenouille 1956; Efron & Stein
1981), mapped back. It is withheld, in words, when fewer than
``MIN_DISAGREEING_UNITS`` units disagree or one jackknife group holds every
disagreement. bench/RESULTS.md (coverage, log-jackknife) has the study behind
these choices, including why a threshold on Kish's effective number of
disagreements did not help.
"""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist

import numpy as np

from .alpha import AlphaParts
from .interval_methods import Interval, _failed, _tails
from .kappa_bootstrap import KappaTables

MIN_DISAGREEING_UNITS = 2
_z = NormalDist().inv_cdf


def disagreeing_units(
    unit_disagreement: np.ndarray, size: np.ndarray | None = None
) -> int:
    """How many units disagree at all (D_u > 0); ``size`` counts units per row
    when rows are unit types."""
    d = np.asarray(unit_disagreement, dtype=float).ravel()
    n = np.ones_like(d) if size is None else np.asarray(size, dtype=float).ravel()
    return int(round(float(n[d > 0].sum())))


def alpha_unit_disagreements(parts: AlphaParts) -> np.ndarray:
    """Each pairable unit's disagreement D_u = sum of its pairs' weight x delta
    (the numerator of D_o, unit by unit)."""
    p = parts.pairs
    delta = parts.diff.at(p.c, p.k, parts.n)
    size = parts.coded.n_units
    d_u = np.bincount(p.unit, weights=parts.weight * delta, minlength=size)
    m_u = np.bincount(parts.entries.unit, weights=parts.entries.count, minlength=size)
    return d_u[m_u >= 2]


def kappa_disagreeing_units(tables: KappaTables) -> int:
    """How many pairable units have an agreement term a_u below 1."""
    pairable = tables.pairable.astype(bool)
    return disagreeing_units(1.0 - tables.agree[pairable], tables.size[pairable])


def withheld_reason(disagreeing: int, confidence: float = 0.95) -> str:
    """The words shown instead of an interval when disagreements are too few."""
    units = "unit disagrees" if disagreeing == 1 else "units disagree"
    return (
        f"too few disagreements ({disagreeing} {units}) for a "
        f"{100 * confidence:g} % interval to hold its level"
    )


def log_jackknife(
    estimate: float,
    jackknife_values: np.ndarray,
    disagreeing: int,
    confidence: float = 0.95,
    *,
    min_disagreeing: int = MIN_DISAGREEING_UNITS,
) -> Interval:
    """Normal interval on log(1 - theta) with a grouped-jackknife standard error.

    se^2 = (G - 1) / G * sum_g (phi_g - mean phi)^2 over the G leave-a-group-out
    values phi_g = log(1 - theta_(g)); the ends are log(1 - estimate) -+ z se,
    mapped back by theta = 1 - exp(phi) and clipped to [-1, 1]. Withheld
    (``holds`` False, the reason in words) when fewer than ``min_disagreeing``
    units disagree or when some jackknife group holds every disagreement (then
    log(1 - theta) is undefined with that group left out).
    """
    method = "logjack"
    _, hi = _tails(confidence)
    if not math.isfinite(estimate):
        return _failed(method, "the estimate itself is undefined")
    if disagreeing < min_disagreeing or estimate >= 1.0:
        return _failed(method, withheld_reason(disagreeing, confidence))
    jack = np.asarray(jackknife_values, dtype=float).ravel()
    if len(jack) < 2 or not np.all(np.isfinite(jack)):
        return _failed(method, "the coefficient is undefined with some units left out")
    if np.any(jack >= 1.0):
        return _failed(method, withheld_reason(disagreeing, confidence))
    phi = np.log1p(-jack)
    groups = len(phi)
    se = math.sqrt((groups - 1) / groups * float(np.sum((phi - phi.mean()) ** 2)))
    centre = math.log1p(-estimate)
    half = _z(hi) * se
    to_theta = lambda x: min(1.0, max(-1.0, 1.0 - math.exp(x)))  # noqa: E731
    return Interval(to_theta(centre + half), to_theta(centre - half), method, True)


def log_jackknife_or_score(logjack: Interval, score: Interval) -> Interval:
    """The log-jackknife interval, or the score interval (its reason saying why)
    where the log-jackknife one is withheld and the score one holds. The
    interval keeps the name of the method that made it ("logjack" or "score"),
    so a report names the method behind each figure."""
    if logjack.holds or not score.holds:
        return logjack
    reason = (
        f"the score interval, as the log-jackknife one is withheld ({logjack.reason})"
    )
    return replace(score, reason=reason)
