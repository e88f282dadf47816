"""Log-disagreement jackknife intervals, their variance floor and the withholding rule.

Pure numpy. Every coefficient here has the form 1 - theta = observed
disagreement / chance disagreement (alpha: D_o / D_e; percent agreement:
1 - p_a; the kappa family: (1 - p_a) / (1 - p_e)), so log(1 - theta) is a
difference of logs whose sampling distribution is far less skewed than
theta's when disagreements are rare or, under quadratic weights, dominated by
a few distant ones. The interval is a normal interval on that scale around
the jackknife's bias-corrected estimate, with a delete-a-group jackknife
standard error (Quenouille 1956; Efron & Stein 1981), mapped back.

Where the metric weighs disagreements by distance, a small sample that holds
only near disagreements shows a jackknife variance that cannot know of the
distant ones it lacks; the variance is then raised to what disagreements of
the sizes chance would give (the pairs of distinct values behind the expected
disagreement) would show: the relative variance of a sum of k disagreements
is (1 + CV^2) / k, CV their sizes' coefficient of variation. With nominal
data every disagreement weighs the same and the floor is never above the
jackknife. The interval is withheld, in words, when fewer than
``MIN_DISAGREEING_UNITS`` units disagree or one jackknife group holds every
disagreement. bench/RESULTS.md (coverage, log-jackknife) has the studies
behind these choices.
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


def chance_spread(size: np.ndarray, weight: np.ndarray) -> float:
    """1 + CV^2 of a disagreement's size when pairs of distinct values meet at
    chance: sizes ``size`` (delta(c, k) or 1 - w(c, k)) weighted by how often
    the pair meets (n_c n_k, or pi_c pi_k); 1 when every such size is equal."""
    size = np.asarray(size, dtype=float).ravel()
    weight = np.asarray(weight, dtype=float).ravel()
    keep = (size > 0) & (weight > 0)
    if not keep.any():
        return 1.0
    size, weight = size[keep], weight[keep]
    mean = float(np.dot(weight, size)) / float(weight.sum())
    square = float(np.dot(weight, size * size)) / float(weight.sum())
    return square / (mean * mean)


def variance_floor(
    unit_disagreement: np.ndarray, chance: float, size: np.ndarray | None = None
) -> float:
    """How much to raise the jackknife variance (>= 1): the chance spread over
    the sample's own, k sum d^2 / (sum d)^2 over the k units that disagree (so
    1 when the sample's disagreements are as unequal as chance's or more)."""
    d = np.asarray(unit_disagreement, dtype=float).ravel()
    n = np.ones_like(d) if size is None else np.asarray(size, dtype=float).ravel()
    seen = d > 0
    if not seen.any():
        return 1.0
    d, n = d[seen], n[seen]
    own = float(n.sum()) * float(np.dot(n, d * d)) / float(np.dot(n, d)) ** 2
    return max(1.0, chance / own)


def alpha_variance_floor(parts: AlphaParts) -> float:
    """``variance_floor`` for alpha: the sample's unit disagreements D_u against
    the metric's delta over pairs of distinct pairable values, weighted n_c n_k."""
    q = len(parts.n)
    c, k = np.nonzero(~np.eye(q, dtype=bool))
    delta = parts.diff.at(c, k, parts.n)
    chance = chance_spread(delta, parts.n[c] * parts.n[k])
    return variance_floor(alpha_unit_disagreements(parts), chance)


def kappa_variance_floor(tables: KappaTables) -> float:
    """``variance_floor`` for the kappa family: each pairable unit's 1 - a_u
    against 1 - w(c, k) over pairs of distinct categories, weighted pi_c pi_k."""
    pairable = tables.pairable.astype(bool)
    pi = tables.size @ tables.share / float(tables.size.sum())
    c, k = np.nonzero(~np.eye(tables.q, dtype=bool))
    chance = chance_spread(1.0 - tables.w[c, k], pi[c] * pi[k])
    return variance_floor(1.0 - tables.agree[pairable], chance, tables.size[pairable])


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
    floor: float = 1.0,
) -> Interval:
    """Normal interval on log(1 - theta) with a grouped-jackknife standard error.

    se^2 = floor * (G - 1) / G * sum_g (phi_g - mean phi)^2 over the G
    leave-a-group-out values phi_g = log(1 - theta_(g)) (``floor`` from
    ``variance_floor``); the centre is the jackknife's bias-corrected
    G phi - (G - 1) mean phi_g, phi = log(1 - estimate), whose Jensen bias
    (log of a small disagreement sum runs low) the correction removes; the
    ends are centre -+ z se, mapped back by theta = 1 - exp(phi) and clipped
    to [-1, 1]. Withheld
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
    spread = float(np.sum((phi - phi.mean()) ** 2))
    se = math.sqrt(max(floor, 1.0) * (groups - 1) / groups * spread)
    centre = groups * math.log1p(-estimate) - (groups - 1) * float(phi.mean())
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
