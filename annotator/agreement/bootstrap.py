"""Unit-bootstrap confidence intervals for Krippendorff's alpha.

Each resample draws the units that have >= 2 ratings with replacement and
recomputes alpha -- observed *and* expected disagreement -- from sums of
per-unit contributions. Units with identical value counts make identical
contributions, so units are first collapsed into "types"; drawing U units with
replacement is then a multinomial draw of type counts, and every resample's
sums are a (resamples x types) @ (types x features) product. No resample
touches the individual ratings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._coding import Coded
from ._tables import Entries
from .alpha import (
    AlphaParts,
    alpha_from_parts,
    alpha_parts,
    alpha_value,
    encode_for_alpha,
)
from .kappa import prepare_coded
from .metrics import _ordinal
from .result import AgreementResult

_BATCH_CELLS = 20_000_000
_MULTINOMIAL_MAX_TYPES = 2_000


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimate, percentile interval and the chance alpha falls below minimums."""

    estimate: AgreementResult
    ci_low: float
    ci_high: float
    confidence: float
    p_below: dict[float, float]  # minimum -> share of resamples with alpha < minimum
    n_resamples: int
    n_valid: int  # resamples where alpha was defined
    seed: int | None
    method: str = "unit bootstrap, percentile interval"
    samples: np.ndarray = field(
        default_factory=lambda: np.zeros(0), repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view without the raw resampled values."""
        d = asdict(self)
        d.pop("samples")
        d["estimate"] = self.estimate.to_dict()
        return d


@dataclass(frozen=True)
class _Types:
    of_unit: np.ndarray  # type id of each used unit (local order)
    size: np.ndarray  # units per type
    val_t: np.ndarray  # value entries of the representative unit: type, cat, count
    val_c: np.ndarray
    val_n: np.ndarray
    pair_t: np.ndarray  # pair entries: type, c, k, coincidence weight
    pair_c: np.ndarray
    pair_k: np.ndarray
    pair_w: np.ndarray


def _runs(sorted_units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` for already sorted ``x`` (entries are
    sorted by unit), without sorting again."""
    if len(sorted_units) == 0:
        return sorted_units, np.zeros(0, dtype=np.int64)
    new = np.empty(len(sorted_units), dtype=bool)
    new[0] = True
    np.not_equal(sorted_units[1:], sorted_units[:-1], out=new[1:])
    return sorted_units[new], np.cumsum(new) - 1


def _unit_types(parts: AlphaParts) -> _Types:
    e, p = parts.entries, parts.pairs
    units, local = _runs(e.unit)
    nu = len(units)
    starts = np.searchsorted(local, np.arange(nu))
    rank = np.arange(len(local)) - starts[local]
    width = int(rank.max()) + 1
    count = e.count.astype(np.int64)
    base = (parts.coded.q + 1) * (int(count.max()) + 1)
    if base**width < 2**62:
        # One integer per unit (its entries in mixed radix): a 1-D unique is far
        # faster than np.unique(axis=0) over rows.
        code = (e.cat + 1) * (int(count.max()) + 1) + count
        key = np.zeros(nu, dtype=np.int64)
        for r in range(width):
            at = rank == r
            key[local[at]] += code[at] * base**r
    else:
        key = np.full((nu, 2 * width), -1, dtype=np.int64)
        key[local, 2 * rank] = e.cat
        key[local, 2 * rank + 1] = count
    _, first, of_unit, size = np.unique(
        key,
        axis=0 if key.ndim == 2 else None,
        return_index=True,
        return_inverse=True,
        return_counts=True,
    )
    of_unit = of_unit.ravel()
    rep = np.zeros(nu, dtype=bool)
    rep[first] = True
    sel = rep[local]
    plocal = np.searchsorted(units, p.unit)
    psel = rep[plocal]
    return _Types(
        of_unit,
        size,
        of_unit[local[sel]],
        e.cat[sel],
        e.count[sel],
        of_unit[plocal[psel]],
        p.c[psel],
        p.k[psel],
        parts.weight[psel],
    )


def _sparse_product(
    m: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, ncols: int
) -> np.ndarray:
    """m @ S for S given as COO triples (rows index m's columns)."""
    out = np.zeros((m.shape[0], ncols))
    if len(rows) == 0:
        return out
    order = np.argsort(cols, kind="stable")
    cs = cols[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(cs)) + 1))
    g = m[:, rows[order]] * vals[order]
    out[:, cs[starts]] = np.add.reduceat(g, starts, axis=1)
    return out


def _draw_counts(rng: np.random.Generator, types: _Types, batch: int) -> np.ndarray:
    n_units, n_types = len(types.of_unit), len(types.size)
    if n_types <= _MULTINOMIAL_MAX_TYPES:
        return rng.multinomial(n_units, types.size / n_units, size=batch).astype(float)
    idx = rng.integers(0, n_units, size=(batch, n_units), dtype=np.int32)
    flat = types.of_unit[idx] + (np.arange(batch) * n_types)[:, None]
    return (
        np.bincount(flat.ravel(), minlength=batch * n_types)
        .reshape(batch, n_types)
        .astype(float)
    )


def _batch_alpha(
    parts: AlphaParts,
    types: _Types,
    m: np.ndarray,
    fixed: np.ndarray | None,
    pair_key: np.ndarray,
    pair_cols: tuple[np.ndarray, np.ndarray],
    moments: np.ndarray | None,
) -> np.ndarray:
    """Alpha of each resample (rows of type counts ``m``) from summed contributions."""
    diff = parts.diff
    if moments is not None:  # interval: D_e needs only sum n, sum n x, sum n x^2
        tot, s1, s2 = (m @ moments).T
        return alpha_value(tot[:, None], m @ fixed, 2.0 * (tot * s2 - s1**2))
    n = _sparse_product(m, types.val_t, types.val_c, types.val_n, parts.coded.q)
    if fixed is not None:  # metric independent of the marginals
        observed = m @ fixed
    else:  # ordinal: delta depends on each resample's marginals
        o = _sparse_product(m, types.pair_t, pair_key, types.pair_w, len(pair_cols[0]))
        observed = (o * _ordinal(n, pair_cols[0], pair_cols[1])).sum(axis=1)
    return alpha_value(n, observed, diff.expected_numerator(n))


def bootstrap_alpha(
    units: Sequence[Any] | np.ndarray,
    coders: Sequence[Any] | np.ndarray,
    values: Sequence[Any] | np.ndarray,
    *,
    level: str = "nominal",
    categories: Sequence[Any] | None = None,
    n_resamples: int = 1000,
    seed: int | None = 0,
    minimums: Sequence[float] = (0.667, 0.8),
    confidence: float = 0.95,
) -> BootstrapResult:
    """Krippendorff's alpha with a unit-bootstrap percentile CI and P(alpha < minimum).

    Why this resampling scheme: Hayes & Krippendorff (2007), "Answering the
    call for a standard reliability measure for coding data", Communication
    Methods and Measures 1(1), 77-89, is the standard reference for
    bootstrapping alpha; their KALPHA macro resamples *pairable values* from
    the coincidence matrix (expected disagreement taken from the full sample)
    and reports the CI and q, the probability that alpha fails to reach a
    chosen minimum. We resample *units* instead (an accepted alternative: the
    nonparametric bootstrap for clustered data, Davison & Hinkley 1997,
    sec. 3.8), because in content analysis the sampled objects are the units
    (documents, segments), the ratings of one unit are not independent, and
    recomputing D_e per resample also carries its sampling error. Only units
    with >= 2 ratings are resampled (single-rated units contribute nothing to
    alpha). ``p_below[m]`` is the share of defined resamples with alpha < m,
    i.e. Hayes & Krippendorff's q for alpha_min = m. Resamples where alpha is
    undefined (no variation) are dropped and counted out of ``n_valid``.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    coded = encode_for_alpha(units, coders, values, level=level, categories=categories)
    return bootstrap_from_parts(
        alpha_parts(coded, level),
        n_resamples=n_resamples,
        seed=seed,
        minimums=minimums,
        confidence=confidence,
    )


@dataclass(frozen=True)
class ResampleTables:
    """What every resample of one set of alpha parts shares, computed once.

    ``alphas(m)`` gives alpha for each row of ``m`` (resamples x unit types: how
    many units of each type were drawn); the row ``types.size`` is the sample.
    """

    parts: AlphaParts
    types: Any
    fixed: np.ndarray | None
    pair_key: np.ndarray
    pair_cols: tuple[np.ndarray, np.ndarray]
    moments: np.ndarray | None

    def alphas(self, m: np.ndarray) -> np.ndarray:
        return _batch_alpha(
            self.parts,
            self.types,
            m,
            self.fixed,
            self.pair_key,
            self.pair_cols,
            self.moments,
        )


def resample_tables(parts: AlphaParts) -> ResampleTables:
    """Unit types, pair columns and the per-type sums that resamples reweight."""
    types = _unit_types(parts)
    q = parts.coded.q
    keys = types.pair_c * q + types.pair_k
    ucols, pair_key = np.unique(keys, return_inverse=True)
    fixed = None
    if not parts.diff.needs_marginals:
        fixed = np.bincount(
            types.pair_t,
            weights=types.pair_w * parts.diff.at(types.pair_c, types.pair_k),
            minlength=len(types.size),
        )
    moments = None
    if parts.level == "interval":
        x = parts.diff.x[types.val_c]
        moments = np.stack(
            [
                np.bincount(
                    types.val_t, weights=types.val_n * x**j, minlength=len(types.size)
                )
                for j in range(3)
            ],
            axis=1,
        )
    return ResampleTables(
        parts, types, fixed, pair_key.ravel(), (ucols // q, ucols % q), moments
    )


def bootstrap_from_parts(
    parts: AlphaParts,
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    minimums: Sequence[float] = (0.667, 0.8),
    confidence: float = 0.95,
) -> BootstrapResult:
    """``bootstrap_alpha`` from precomputed alpha parts (see that function)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    coded, level = parts.coded, parts.level
    estimate = alpha_from_parts(parts, name=f"krippendorff_alpha_{level}")
    samples = np.full(n_resamples, np.nan)
    if parts.n_units > 0:
        tables = resample_tables(parts)
        types, q = tables.types, coded.q
        if level == "interval":
            per_row = max(len(types.size), 1)
        else:
            per_row = max(len(types.size), len(types.val_t), len(types.pair_t), q, 1)
        if parts.diff.needs_marginals:
            per_row = max(per_row, q * q)
        if len(types.size) > _MULTINOMIAL_MAX_TYPES:
            per_row = max(per_row, len(types.of_unit))
        batch = int(max(1, min(n_resamples, _BATCH_CELLS // per_row)))
        rng = np.random.default_rng(seed)
        for s in range(0, n_resamples, batch):
            b = min(batch, n_resamples - s)
            m = _draw_counts(rng, types, b)
            samples[s : s + b] = tables.alphas(m)
    finite = samples[np.isfinite(samples)]
    if len(finite):
        tail = (1.0 - confidence) / 2.0
        low, high = (float(x) for x in np.quantile(finite, [tail, 1.0 - tail]))
        p_below = {float(m): float(np.mean(finite < m)) for m in minimums}
    else:
        low = high = math.nan
        p_below = {float(m): math.nan for m in minimums}
    return BootstrapResult(
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_below=p_below,
        n_resamples=n_resamples,
        n_valid=len(finite),
        seed=seed,
        samples=samples,
    )


KAPPA_INTERVALS = ("percent_agreement", "fleiss_kappa", "gwet", "brennan_prediger")
_KAPPA_MAX_TYPES = 20_000


def _type_of_units(e: Entries, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group units with identical (category, count) entries: (units, type, first).

    ``units`` are the unit codes present in ``e`` (sorted), ``type`` their type
    id, ``first`` the position in ``units`` of each type's representative.
    """
    units, local = _runs(e.unit)
    starts = np.flatnonzero(np.diff(local, prepend=-1))  # local is sorted
    rank = np.arange(len(local)) - starts[local]
    width = int(rank.max()) + 1
    count = e.count.astype(np.int64)
    top = int(count.max()) + 1
    base = (q + 1) * top
    if base**width < 2**62:
        code = (e.cat + 1) * top + count
        key = code[starts]  # each unit's first entry (rank 0)
        for r in range(1, width):
            at = np.flatnonzero(rank == r)
            key[local[at]] += code[at] * base**r
        first, of_unit = _first_and_inverse(key, base)
    else:
        rows = np.full((len(units), 2 * width), -1, dtype=np.int64)
        rows[local, 2 * rank] = e.cat
        rows[local, 2 * rank + 1] = count
        _, first, of_unit = np.unique(
            rows, axis=0, return_index=True, return_inverse=True
        )
    return units, of_unit.ravel(), first


def _first_and_inverse(key: np.ndarray, small: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_index=True, return_inverse=True)[1:]`` for keys
    >= 0, most of them below ``small``.

    Units with one entry (every single-rated unit, every unanimous one) have
    a key below ``small``: those are tabulated, and only the others sorted.
    Every small key sorts before every large one, so type ids come out as
    np.unique numbers them.
    """
    low = key < small
    at_low, at_high = np.flatnonzero(low), np.flatnonzero(~low)
    first_low = np.full(small, len(key), dtype=np.int64)
    np.minimum.at(first_low, key[at_low], at_low)
    present = np.flatnonzero(first_low < len(key))
    type_low = np.full(small, -1, dtype=np.int64)
    type_low[present] = np.arange(len(present))
    _, first_high, inverse_high = np.unique(
        key[at_high], return_index=True, return_inverse=True
    )
    of_unit = np.empty(len(key), dtype=np.int64)
    of_unit[at_low] = type_low[key[at_low]]
    of_unit[at_high] = inverse_high.ravel() + len(present)
    return np.concatenate([first_low[present], at_high[first_high]]), of_unit


def bootstrap_kappa_family(
    coded: Coded,
    weights: Any = "identity",
    *,
    n_resamples: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Unit-bootstrap percentile intervals for percent agreement, Fleiss' kappa,
    Gwet's AC1/AC2 and Brennan-Prediger, keyed as in ``kappa_family``.

    Why these four: each is a function of per-unit sums only -- p_a averages
    each unit's agreement, pi_k averages each unit's category shares (Gwet
    2014, ch. 2-4) -- so resampling units is a multinomial draw over unit
    types and one matrix product, as in ``bootstrap_alpha``. Conger's kappa
    and Scott's pi depend on each coder's marginals, which a unit resample
    does not decompose into; they get no interval here. All units with a
    rating are resampled (single-rated ones enter pi_k). Intervals are nan
    when there are too many distinct unit types to draw cheaply.
    """
    nan = (math.nan, math.nan)
    prep = prepare_coded(coded, weights)
    e, q, w = prep.e, coded.q, prep.w
    present = e.m >= 1
    if not present.any() or prep.n_used == 0:
        return dict.fromkeys(KAPPA_INTERVALS, nan)
    units, of_unit, first = _type_of_units(e, q)
    n_types = len(first)
    if n_types > _KAPPA_MAX_TYPES:
        return dict.fromkeys(KAPPA_INTERVALS, nan)
    size = np.bincount(of_unit, minlength=n_types).astype(float)
    rep = units[first]  # a representative unit code per type
    r = e.m[rep].astype(float)
    # Per type: the unit's category counts (q-vector) from its entries.
    type_of_code = np.full(len(e.m), -1, dtype=np.int64)
    type_of_code[rep] = np.arange(n_types)
    sel = type_of_code[e.unit] >= 0
    counts = np.zeros((n_types, q))
    counts[type_of_code[e.unit[sel]], e.cat[sel]] = e.count[sel]
    share = counts / r[:, None]
    used = (r >= 2).astype(float)
    s = np.einsum("tk,kl,tl->t", counts, w, counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree = np.where(used > 0, (s - r) / (r * (r - 1.0)), 0.0)
    n_units = size.sum()
    rng = np.random.default_rng(seed)
    m = rng.multinomial(int(n_units), size / n_units, size=n_resamples).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = (m @ agree) / (m @ used)
    pi = (m @ share) / n_units
    pe = {
        "percent_agreement": np.zeros(n_resamples),
        "fleiss_kappa": np.einsum("bk,kl,bl->b", pi, w, pi),
        "gwet": (
            w.sum() / (q * (q - 1)) * (pi * (1.0 - pi)).sum(axis=1)
            if q >= 2
            else np.full(n_resamples, np.nan)
        ),
        "brennan_prediger": np.full(n_resamples, w.sum() / q**2),
    }
    tail = (1.0 - confidence) / 2.0
    out = {}
    for name, chance in pe.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            values = (pa - chance) / (1.0 - chance)
        values = values[np.isfinite(values)]
        out[name] = (
            tuple(float(x) for x in np.quantile(values, [tail, 1.0 - tail]))
            if len(values)
            else nan
        )
    return out
