"""Interval methods on unit resamples: percentile, BCa, grouped jackknife, score.

Pure numpy. Each method returns an ``Interval`` that says whether it holds and,
when it does not, why in words. Sources: Efron, B. (1987). Better bootstrap
confidence intervals. JASA 82(397), 171-185 (BCa); Wilson, E. B. (1927).
Probable inference, the law of succession, and statistical inference. JASA
22(158), 209-212 (score interval); Hayes & Krippendorff (2007) for alpha's
D_o/D_e split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from .alpha import AlphaParts
from .kappa_bootstrap import KAPPA_INTERVALS, KappaTables

MAX_GROUPS = 200
_NORMAL = NormalDist()
_ROW_CELLS = 20_000_000  # jackknife rows evaluated per chunk (as bootstrap.py)


@dataclass(frozen=True)
class Interval:
    """An interval for one coefficient by one method; ``reason`` says why not when
    ``holds`` is False (then ``low``/``high`` are nan), or notes a fallback."""

    low: float
    high: float
    method: str
    holds: bool
    reason: str = ""


def _failed(method: str, reason: str) -> Interval:
    return Interval(math.nan, math.nan, method, False, reason)


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values)]


def _tails(confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    tail = (1.0 - confidence) / 2.0
    return tail, 1.0 - tail


def percentile(
    estimates: np.ndarray, estimate: float, confidence: float = 0.95
) -> Interval:
    """The percentile interval of the resampled ``estimates`` (nan ones dropped),
    computed exactly as the engine's bootstrap computes it (``np.quantile``)."""
    lo, hi = _tails(confidence)
    values = _finite(estimates)
    if not len(values):
        return _failed("percentile", "no resample gave a defined value")
    if not math.isfinite(estimate):
        return _failed("percentile", "the estimate itself is undefined")
    low, high = (float(x) for x in np.quantile(values, [lo, hi]))
    return Interval(low, high, "percentile", True)


def bias_correction(values: np.ndarray, estimate: float) -> float:
    """z0 = Phi^-1(share of resamples below the estimate, ties counted half);
    +-inf when every resample lies on one side."""
    below = float(np.mean(values < estimate) + 0.5 * np.mean(values == estimate))
    if below <= 0.0:
        return -math.inf
    if below >= 1.0:
        return math.inf
    return _NORMAL.inv_cdf(below)


def acceleration(jackknife_values: np.ndarray) -> float:
    """a = sum d^3 / (6 (sum d^2)^(3/2)), d = mean - theta_(i) (Efron 1987, eq. 6.6);
    nan when the jackknife variance is 0 or a jackknife value is undefined."""
    theta = np.asarray(jackknife_values, dtype=float).ravel()
    if not len(theta) or not np.all(np.isfinite(theta)):
        return math.nan
    d = theta.mean() - theta
    ss = float(np.sum(d * d))
    if ss <= 0.0:
        return math.nan
    return float(np.sum(d**3) / (6.0 * ss**1.5))


def bca(
    resampled: np.ndarray,
    estimate: float,
    jackknife_values: np.ndarray,
    confidence: float = 0.95,
) -> Interval:
    """Efron's (1987) bias-corrected and accelerated interval: the percentile
    interval read at the levels Phi(z0 + (z0 + z)/(1 - a (z0 + z))) instead of
    the nominal ones, z0 from the resamples, a from the jackknife values."""
    lo, hi = _tails(confidence)
    values = _finite(resampled)
    if not len(values):
        return _failed("bca", "no resample gave a defined value")
    if not math.isfinite(estimate):
        return _failed("bca", "the estimate itself is undefined")
    z0 = bias_correction(values, estimate)
    if not math.isfinite(z0):
        side = "above" if z0 < 0 else "below"
        return _failed(
            "bca",
            f"every resample lies {side} the estimate, so the bias correction "
            "is infinite",
        )
    jack = np.asarray(jackknife_values, dtype=float).ravel()
    if not len(jack) or not np.all(np.isfinite(jack)):
        return _failed("bca", "the coefficient is undefined with some units left out")
    a = acceleration(jack)
    if not math.isfinite(a):
        return _failed(
            "bca",
            "the jackknife variance is 0: leaving units out never changes the "
            "coefficient, so there is no acceleration to estimate",
        )
    levels = []
    for p in (lo, hi):
        z = z0 + _NORMAL.inv_cdf(p)
        denom = 1.0 - a * z
        if denom <= 0:
            return _failed(
                "bca", f"the acceleration ({a:.3g}) is too large for this level"
            )
        levels.append(_NORMAL.cdf(z0 + z / denom))
    low, high = (float(x) for x in np.quantile(values, levels))
    return Interval(low, high, "bca", True)


def jackknife_groups(
    n_units: int,
    seed: int | None,
    *,
    strata: np.ndarray | None = None,
    max_groups: int = MAX_GROUPS,
) -> np.ndarray:
    """Group id of each of ``n_units`` units for a delete-a-group jackknife.

    G = min(n_units, max_groups) groups. Units are shuffled by ``seed`` (within
    each stratum when ``strata`` labels them) and dealt round robin, so group
    sizes differ by at most one and every group holds its share of each
    stratum. With n_units <= max_groups each unit is its own group: the
    ordinary jackknife, whatever the seed.
    """
    n_groups = min(n_units, max_groups)
    if n_groups == 0:
        return np.zeros(0, dtype=np.int64)
    if n_units == n_groups:
        return np.arange(n_units, dtype=np.int64)
    rng = np.random.default_rng(None if seed is None else [seed, 0x6A4B])
    labels = np.zeros(n_units, dtype=np.int64) if strata is None else np.asarray(strata)
    group = np.empty(n_units, dtype=np.int64)
    dealt = 0
    for s in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == s))
        group[members] = (dealt + np.arange(len(members))) % n_groups
        dealt += len(members)
    return group


def grouped_jackknife_rows(
    of_unit: np.ndarray,
    size: np.ndarray,
    groups: np.ndarray,
    which: np.ndarray | slice = slice(None),
) -> np.ndarray:
    """Type-count rows of the sample with one group left out (groups x types).

    ``of_unit`` and ``size`` are a resample table's unit types and units per
    type (``ResampleTables.types`` or ``KappaTables``); row g is
    ``size - (units of each type in group g)``, so ``ResampleTables.alphas`` and
    ``KappaTables.values`` evaluate it like any resample.
    """
    n_types = len(size)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    wanted = np.arange(n_groups)[which]
    pos = np.full(n_groups, -1, dtype=np.int64)
    pos[wanted] = np.arange(len(wanted))
    sel = pos[groups] >= 0
    cells = pos[groups[sel]] * n_types + np.asarray(of_unit)[sel]
    counts = np.bincount(cells, minlength=len(wanted) * n_types)
    return np.asarray(size, dtype=float)[None, :] - counts.reshape(len(wanted), n_types)


def jackknife_values(
    evaluate: Callable[[np.ndarray], np.ndarray],
    of_unit: np.ndarray,
    size: np.ndarray,
    groups: np.ndarray,
) -> np.ndarray:
    """``evaluate`` (e.g. ``tables.alphas``) on every leave-a-group-out row, in
    chunks of at most ~20M cells; one value per group."""
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    step = max(1, _ROW_CELLS // max(len(size), 1))
    out = [
        np.asarray(
            evaluate(
                grouped_jackknife_rows(
                    of_unit, size, groups, slice(s, min(s + step, n_groups))
                )
            ),
            dtype=float,
        )
        for s in range(0, n_groups, step)
    ]
    return np.concatenate(out) if out else np.zeros(0)


def wilson(p: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's (1927) score interval for a proportion p observed on n trials."""
    z = _NORMAL.inv_cdf(_tails(confidence)[1])
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _delta_max(parts: AlphaParts) -> float:
    """The largest difference between two categories that occur (bounds D_o)."""
    used = np.flatnonzero(parts.n > 0)
    if parts.level in ("nominal", "set") or len(used) < 2:
        return 1.0  # nominal delta is 0/1; MASI is at most 1
    lo, hi = used[:1], used[-1:]  # ordered scales: the extremes differ most
    return float(parts.diff.at(lo, hi, parts.n)[0])


def score_alpha(parts: AlphaParts, confidence: float = 0.95) -> Interval:
    """Score (Wilson-type) interval for alpha with D_e held at the sample's.

    D_o = sum_u D_u / sum_u m_u over pairable units (D_u: unit u's coincidence
    contributions times delta^2, m_u its ratings), scaled to [0, 1] by the
    largest delta between the categories seen. Its Wilson interval uses the
    effective n_eff = p (1 - p) / Var(p), Var the ratio estimator's
    sum (D_u - p m_u)^2 / (N m_bar)^2, which is the number of units for two
    coders and no missing ratings. The ends map through alpha = 1 - D_o/D_e,
    clipped to [-1, 1]. With no disagreement at all (Var = 0) n_eff is the
    number of pairable units, and the interval says so.
    """
    method = "score"
    n = parts.n
    total = float(n.sum())
    if parts.n_units == 0 or total < 2:
        return _failed(method, "no unit was coded by two or more coders")
    expected_num = float(parts.diff.expected_numerator(n))
    if not expected_num > 0:
        return _failed(method, "every rating is in one category, so alpha is undefined")
    d_e = expected_num / (total * (total - 1.0))
    p = parts.pairs
    delta = parts.diff.at(p.c, p.k, n)
    size = parts.coded.n_units
    d_u = np.bincount(p.unit, weights=parts.weight * delta, minlength=size)
    m_u = np.bincount(parts.entries.unit, weights=parts.entries.count, minlength=size)
    used = m_u >= 2
    d_u, m_u = d_u[used], m_u[used]
    units = len(m_u)
    scale = _delta_max(parts)
    d_o = float(d_u.sum() / m_u.sum())
    share = min(max(d_o / scale, 0.0), 1.0)
    resid = (d_u - d_o * m_u) / scale
    var = float(np.sum(resid**2) / (units * m_u.mean()) ** 2)
    reason = ""
    if var > 0 and 0.0 < share < 1.0:
        n_eff = share * (1.0 - share) / var
    else:
        n_eff = float(units)
        reason = (
            f"no spread of disagreement between units, so n_eff is taken as the "
            f"{units} pairable units"
        )
    low_share, high_share = wilson(share, n_eff, confidence)
    to_alpha = lambda s: min(1.0, max(-1.0, 1.0 - s * scale / d_e))  # noqa: E731
    return Interval(to_alpha(high_share), to_alpha(low_share), method, True, reason)


def score_kappa(tables: KappaTables, confidence: float = 0.95) -> dict[str, Interval]:
    """Score intervals for the kappa family's ``KAPPA_INTERVALS`` with p_e held fixed.

    As ``score_alpha`` with p_a for 1 - D_o: a Wilson interval on the
    disagreement 1 - p_a over the N pairable units, n_eff = p (1 - p) / Var(p)
    with Var the mean's sum (a_u - p_a)^2 / N^2 (a_u each unit's agreement
    term, so n_eff = N for two coders and identity weights), mapped through
    each coefficient at the sample's chance agreement. The map is the tables'
    own ``values`` with every pairable unit's term set to the bound, so the
    chance terms are computed in one place.
    """
    pairable = tables.pairable.astype(float)
    units = float(tables.size @ pairable)
    if units == 0:
        return {
            name: _failed("score", "no unit was coded by two or more coders")
            for name in KAPPA_INTERVALS
        }
    p_a = float(tables.size @ tables.agree) / units
    share = min(max(1.0 - p_a, 0.0), 1.0)
    var = float(tables.size @ (pairable * (tables.agree - p_a) ** 2)) / units**2
    reason = ""
    if var > 0 and 0.0 < share < 1.0:
        n_eff = share * (1.0 - share) / var
    else:
        n_eff = units
        reason = (
            f"no spread of agreement between units, so n_eff is taken as the "
            f"{int(units)} pairable units"
        )
    low_share, high_share = wilson(share, n_eff, confidence)
    row = tables.size[None, :]
    at_low = replace(tables, agree=(1.0 - high_share) * pairable).values(row)
    at_high = replace(tables, agree=(1.0 - low_share) * pairable).values(row)
    out = {}
    for name in KAPPA_INTERVALS:
        low, high = float(at_low[name][0]), float(at_high[name][0])
        if not (math.isfinite(low) and math.isfinite(high)):
            out[name] = _failed(
                "score", "the chance agreement is 1, so the coefficient is undefined"
            )
            continue
        clip = lambda x: min(1.0, max(-1.0, x))  # noqa: E731
        out[name] = Interval(clip(low), clip(high), "score", True, reason)
    return out
