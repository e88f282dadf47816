"""Every interval method for alpha and the kappa family on the engine's own resamples.

The coverage bench compares them; ``interval_set.dimension_intervals`` takes
the one ``interval_policy.METHOD`` names for each coefficient. The resamples
are the ones ``bootstrap_from_parts`` and ``kappa_samples`` draw for the same
seed, so each percentile interval here equals the one those give; BCa reads
the same resamples at corrected levels, with its acceleration from a
delete-a-group jackknife on the same tables; the score intervals hold the
chance term at the sample's value; the log-jackknife interval
(``interval_methods_extra``) reuses BCa's jackknife values on the
log(1 - theta) scale and is withheld, in words, on too few disagreements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._coding import Coded
from .alpha import AlphaParts, alpha_parts
from .bootstrap import bootstrap_from_parts, resample_tables
from .interval_methods import (
    Interval,
    bca,
    jackknife_groups,
    jackknife_values,
    percentile,
    score_alpha,
    score_kappa,
)
from .interval_methods_extra import (
    alpha_unit_disagreements,
    alpha_variance_floor,
    disagreeing_units,
    kappa_disagreeing_units,
    kappa_variance_floor,
    log_jackknife,
    log_jackknife_or_score,
)
from .kappa_bootstrap import KAPPA_INTERVALS, kappa_tables

ALPHA_METHODS = ("percentile", "bca", "score", "logjack", "logjack_score")
KAPPA_METHODS = ("percentile", "bca", "score", "logjack", "logjack_score")
RESAMPLED = frozenset({"percentile", "bca"})  # the methods that read resamples
NOT_RESAMPLED = tuple(m for m in ALPHA_METHODS if m not in RESAMPLED)


def alpha_intervals(
    coded: Coded,
    level: str,
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    parts: AlphaParts | None = None,
    methods: tuple[str, ...] = ALPHA_METHODS,
) -> dict[str, Interval]:
    """Krippendorff's alpha's interval by each of ``methods`` (every one of
    ``ALPHA_METHODS`` unless told).

    The resamples are ``bootstrap_from_parts``'s for ``seed``, drawn only when
    percentile or BCa is among ``methods``; the jackknife leaves out each of
    min(units, 200) groups of pairable units (assigned by ``seed``); the score
    interval needs no resamples.
    """
    parts = parts if parts is not None else alpha_parts(coded, level)
    samples = None
    if not RESAMPLED.isdisjoint(methods):
        samples = bootstrap_from_parts(
            parts,
            n_resamples=n_resamples,
            seed=seed,
            minimums=(),
            confidence=confidence,
        ).samples
    every = alpha_from_resamples(parts, samples, seed=seed, confidence=confidence)
    return {m: every[m] for m in methods}


def alpha_from_resamples(
    parts: AlphaParts,
    samples: np.ndarray | None,
    *,
    seed: int | None,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """Alpha's interval by each method from resamples already drawn
    (``bootstrap_from_parts(parts, seed=seed).samples``), so one bootstrap
    serves every method; without resamples (None), only the methods that
    need none."""
    wanted = ALPHA_METHODS if samples is not None else NOT_RESAMPLED
    out = {"score": score_alpha(parts, confidence)}
    if parts.n_units == 0:
        none = "no unit was coded by two or more coders"
        out.update(
            {
                m: Interval(np.nan, np.nan, m, False, none)
                for m in wanted
                if m != "score"
            }
        )
        return {m: out[m] for m in wanted}
    tables = resample_tables(parts)
    types = tables.types
    estimate = float(tables.alphas(types.size[None, :].astype(float))[0])
    groups = jackknife_groups(len(types.of_unit), seed)
    jack = jackknife_values(tables.alphas, types.of_unit, types.size, groups)
    if samples is not None:
        out["percentile"] = percentile(samples, estimate, confidence)
        out["bca"] = bca(samples, estimate, jack, confidence)
    disagreeing = disagreeing_units(alpha_unit_disagreements(parts))
    floor = alpha_variance_floor(parts)
    out["logjack"] = log_jackknife(estimate, jack, disagreeing, confidence, floor=floor)
    out["logjack_score"] = log_jackknife_or_score(out["logjack"], out["score"])
    return {m: out[m] for m in wanted}


def kappa_family_intervals(
    coded: Coded,
    weights: Any = "identity",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    methods: tuple[str, ...] = KAPPA_METHODS,
) -> dict[str, dict[str, Interval]]:
    """{coefficient: {method: Interval}} for ``KAPPA_INTERVALS`` and
    ``methods`` (every one of ``KAPPA_METHODS`` unless told), on
    ``kappa_samples``'s resamples for ``seed``; without percentile or BCa
    among ``methods`` no resample is drawn (the others need none).

    The jackknife groups are dealt within each stratum (pairable and
    single-coded units), as the resamples are drawn.
    """
    tables = kappa_tables(coded, weights)
    if tables is None:
        reason = (
            "no unit was coded by two or more coders, or too many distinct "
            "units to resample cheaply"
        )
        return {
            name: {m: Interval(np.nan, np.nan, m, False, reason) for m in methods}
            for name in KAPPA_INTERVALS
        }
    samples = None
    if not RESAMPLED.isdisjoint(methods):
        # The same draws as kappa_samples(coded, weights, seed=seed).
        samples = tables.values(tables.draw(np.random.default_rng(seed), n_resamples))
    estimates = tables.values(tables.size[None, :])
    groups = jackknife_groups(
        len(tables.of_unit), seed, strata=tables.pairable[tables.of_unit]
    )
    jack = _jackknife_family(tables, groups)
    score = score_kappa(tables, confidence)
    disagreeing = kappa_disagreeing_units(tables)
    floor = kappa_variance_floor(tables)
    out = {}
    for name in KAPPA_INTERVALS:
        estimate = float(estimates[name][0])
        every = {
            "score": score[name],
            "logjack": log_jackknife(
                estimate, jack[name], disagreeing, confidence, floor=floor
            ),
        }
        every["logjack_score"] = log_jackknife_or_score(every["logjack"], score[name])
        if samples is not None:
            every["percentile"] = percentile(samples[name], estimate, confidence)
            every["bca"] = bca(samples[name], estimate, jack[name], confidence)
        out[name] = {m: every[m] for m in methods}
    return out


def _jackknife_family(tables: Any, groups: np.ndarray) -> dict[str, np.ndarray]:
    """Each coefficient with each group left out (one ``values`` pass per chunk)."""
    chunks: list[dict[str, np.ndarray]] = []

    def evaluate(rows: np.ndarray) -> np.ndarray:
        chunks.append(tables.values(rows))
        return np.zeros(len(rows))

    jackknife_values(evaluate, tables.of_unit, tables.size, groups)
    return {
        name: np.concatenate([c[name] for c in chunks]) if chunks else np.zeros(0)
        for name in KAPPA_INTERVALS
    }
