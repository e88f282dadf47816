"""Chance-corrected agreement coefficients of the kappa family, for incomplete designs.

All multi-coder coefficients share Gwet's percent agreement for missing
ratings (Gwet, K. L. (2014), *Handbook of Inter-Rater Reliability*, 4th ed.,
Advanced Analytics; as implemented in the irrCAC R package functions
``pa.coeff.raw``, ``fleiss.kappa.raw``, ``conger.kappa.raw``, ``gwet.ac1.raw``,
``bp.coeff.raw``):

    p_a = mean over units with r_i >= 2 of
          sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)),   r*_ik = sum_l w_kl r_il

and differ only in the chance agreement p_e; the coefficient is
(p_a - p_e) / (1 - p_e). ``r_ik`` is the number of coders who put unit i in
category k, ``r_i`` the number of ratings of unit i, ``w`` the weight matrix.
Set-valued ratings (frozenset/set/list/tuple values) are treated as one
category per distinct set, which only makes sense with identity weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._coding import Coded, encode
from ._tables import Entries, entries, pairable_entries, pairs
from .metrics import agreement_weights, is_identity
from .result import AgreementResult, ratio

Weights = str | np.ndarray | Sequence[Sequence[float]]


@dataclass(frozen=True)
class _Prepared:
    coded: Coded
    w: np.ndarray
    identity: bool
    e: Entries
    pa: float
    n_used: int
    n_pairable: int
    excluded: int


def _prepare(
    units: Any, coders: Any, values: Any, categories: Any, weights: Weights
) -> _Prepared:
    coded = encode(units, coders, values, level="auto", categories=categories)
    return prepare_coded(coded, weights)


def prepare_coded(coded: Coded, weights: Weights) -> _Prepared:
    """Weights and Gwet's percent agreement p_a for already-coded ratings.

    Cached on the (immutable) ``Coded`` for a named weighting scheme: the
    coefficients and their bootstrap intervals start from the same p_a.
    """
    if not isinstance(weights, str):
        return _prepare_coded(coded, weights)
    key = f"_prepared_{weights}"
    cached = coded.__dict__.get(key)
    if cached is None:
        cached = _prepare_coded(coded, weights)
        object.__setattr__(coded, key, cached)  # a pure function of frozen fields
    return cached


def _prepare_coded(coded: Coded, weights: Weights) -> _Prepared:
    identity = is_identity(weights)
    if coded.is_set and not identity:
        raise ValueError(
            "set-valued ratings have no category order: use weights='identity'"
        )
    w = agreement_weights(weights, coded.q)
    e = entries(coded)
    r = e.m.astype(float)
    # p_a needs units with >= 2 ratings only: their entries (same order, so the
    # same sums) spare pairing every single-rated unit with itself.
    pe = pairable_entries(coded)
    if identity:
        s = np.bincount(pe.unit, weights=pe.count**2, minlength=coded.n_units)
    else:
        p = pairs(pe)
        s = np.bincount(
            p.unit, weights=p.n_c * p.n_k * w[p.c, p.k], minlength=coded.n_units
        )
    used = r >= 2
    n_used = int(used.sum())
    pa = (
        float(np.mean((s[used] - r[used]) / (r[used] * (r[used] - 1))))
        if n_used
        else np.nan
    )
    return _Prepared(
        coded, w, identity, e, pa, n_used, int(r[used].sum()), int((r == 1).sum())
    )


def _result(name: str, prep: _Prepared, pe: float) -> AgreementResult:
    return AgreementResult(
        value=ratio(prep.pa - pe, 1.0 - pe),
        coefficient=name,
        n_units=prep.n_used,
        n_pairable=prep.n_pairable,
        n_coders=prep.coded.n_coders,
        excluded_units=prep.excluded,
        observed=prep.pa,
        expected=float(pe),
    )


def _unit_average_pi(prep: _Prepared) -> np.ndarray:
    """pi_k = mean over units with >= 1 rating of r_ik / r_i."""
    e = prep.e
    present = int((e.m >= 1).sum())
    if present == 0:
        return np.full(prep.coded.q, np.nan)
    share = e.count / e.m[e.unit]
    return np.bincount(e.cat, weights=share, minlength=prep.coded.q) / present


def _coder_probabilities(coded: Coded) -> np.ndarray:
    """p_gk: share of coder g's ratings that fall in category k (coders x q)."""
    q, nc = coded.q, coded.n_coders
    counts = np.bincount(coded.coder * q + coded.value, minlength=nc * q).reshape(nc, q)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / totals


def _pe_fleiss(prep: _Prepared) -> float:
    pi = _unit_average_pi(prep)
    return float(pi @ prep.w @ pi)


def _pe_conger(prep: _Prepared) -> float:
    p = _coder_probabilities(prep.coded)
    r = p.shape[0]
    if r < 2:
        return np.nan
    pbar = p.mean(axis=0)
    s2 = (p.T @ p - r * np.outer(pbar, pbar)) / (r - 1)
    return float(np.sum(prep.w * (np.outer(pbar, pbar) - s2 / r)))


def _pe_scott(prep: _Prepared) -> float:
    p = _coder_probabilities(prep.coded)
    if p.shape[0] == 0:
        return np.nan
    pbar = p.mean(axis=0)
    return float(pbar @ prep.w @ pbar)


def _pe_gwet(prep: _Prepared) -> float:
    q = prep.coded.q
    if q < 2:
        return np.nan
    pi = _unit_average_pi(prep)
    return float(prep.w.sum() / (q * (q - 1)) * np.sum(pi * (1.0 - pi)))


def _pe_bp(prep: _Prepared) -> float:
    q = prep.coded.q
    return float(prep.w.sum() / q**2) if q else np.nan


def kappa_family(coded: Coded, weights: Weights) -> dict[str, AgreementResult]:
    """Every multi-coder coefficient of this module from one coding and one p_a."""
    prep = prepare_coded(coded, weights)
    return {
        "percent_agreement": _result("percent_agreement", prep, 0.0),
        "fleiss_kappa": _result("fleiss_kappa", prep, _pe_fleiss(prep)),
        "conger_kappa": _result("conger_kappa", prep, _pe_conger(prep)),
        "scott_pi": _result("scott_pi", prep, _pe_scott(prep)),
        "gwet": _result(
            "gwet_ac1" if prep.identity else "gwet_ac2", prep, _pe_gwet(prep)
        ),
        "brennan_prediger": _result("brennan_prediger", prep, _pe_bp(prep)),
    }


def percent_agreement(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """(Weighted) percent agreement p_a over units with at least two ratings.

    Why: the uncorrected baseline every kappa-type coefficient starts from;
    with missing ratings it averages per-unit pairwise agreement so units with
    more coders do not dominate. Source: Gwet (2014), ch. 2 and 3 (irrCAC
    ``pa.coeff.raw``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("percent_agreement", prep, 0.0)


def fleiss_kappa(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Fleiss' generalised kappa with p_e = sum_kl w_kl pi_k pi_l.

    Why: the chance model assumes coders are interchangeable, so pi_k is the
    category share averaged over units (each unit with >= 1 rating counts once,
    whatever its number of ratings). Source: Fleiss (1971), Psychological
    Bulletin 76, 378-382; missing-rating/weighted form from Gwet (2014), ch. 3
    (irrCAC ``fleiss.kappa.raw``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("fleiss_kappa", prep, _pe_fleiss(prep))


def conger_kappa(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Conger's kappa: p_e averages Cohen-type chance agreement over all coder pairs.

    Why: unlike Fleiss, each coder keeps their own marginal distribution p_gk
    (computed over the units that coder rated), which is what Cohen's kappa
    does for two coders; p_e = sum_kl w_kl (pbar_k pbar_l - s2_kl / r) with
    s2_kl the between-coder covariance of p_gk, p_gl. Source: Conger (1980),
    Psychological Bulletin 88, 322-328; missing-rating form from Gwet (2014)
    (irrCAC ``conger.kappa.raw``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("conger_kappa", prep, _pe_conger(prep))


def scott_pi(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Scott's pi with p_e = sum_kl w_kl pbar_k pbar_l (coder-averaged marginals pbar).

    Why: Scott's chance model pools the coders' marginal distributions
    (pi_k = (p_Ak + p_Bk)/2 for two coders) where Cohen/Conger keep them apart.
    For r coders and missing ratings we average each coder's classification
    probabilities p_gk (over the units that coder rated); this is Scott (1955)
    for two coders with complete data, equals Fleiss' kappa in complete designs,
    and is the Scott counterpart of Conger's kappa in incomplete ones.
    Source: Scott (1955), Public Opinion Quarterly 19, 321-325; weighted form
    and p_a for missing ratings from Gwet (2014) (irrCAC ``scott2.table``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("scott_pi", prep, _pe_scott(prep))


def gwet_ac1(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Gwet's AC1 (AC2 when weighted): p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k).

    Why: AC1 ties chance agreement to how hard units are to classify, so it
    stays stable when one category dominates (the kappa paradoxes). T_w is the
    sum of all weights and q the number of categories on the scale (declared
    ``categories`` count even if unused). Source: Gwet (2008), British Journal
    of Mathematical and Statistical Psychology 61, 29-48; Gwet (2014), ch. 4
    (irrCAC ``gwet.ac1.raw``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("gwet_ac1" if prep.identity else "gwet_ac2", prep, _pe_gwet(prep))


def gwet_ac2(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "quadratic",
) -> AgreementResult:
    """Gwet's AC2: AC1 with (by default quadratic) agreement weights for ordered scales.

    Why: a separate name for the weighted form that reports use; identical to
    ``gwet_ac1(..., weights=weights)``. Source: Gwet (2014), ch. 4.
    """
    return gwet_ac1(units, coders, values, categories=categories, weights=weights)


def brennan_prediger(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Brennan-Prediger coefficient, p_e = T_w / q^2 (uniform chance over categories).

    Why: chance agreement depends only on the size of the scale, not on the
    observed marginals, so the coefficient is free of prevalence effects; q
    counts declared ``categories`` even if unused. Source: Brennan & Prediger
    (1981), Educational and Psychological Measurement 41, 687-699; weighted,
    missing-rating form from Gwet (2014) (irrCAC ``bp.coeff.raw``).
    """
    prep = _prepare(units, coders, values, categories, weights)
    return _result("brennan_prediger", prep, _pe_bp(prep))


def cohen_kappa(
    units: Sequence[Any],
    coders: Sequence[Any],
    values: Sequence[Any],
    *,
    categories: Sequence[Any] | None = None,
    weights: Weights = "identity",
) -> AgreementResult:
    """Cohen's (weighted) kappa for exactly two coders over the units both rated.

    Why: each coder keeps their own marginal distribution, p_e = sum_kl w_kl
    p_k. p_.l, computed from the contingency table of the shared units only;
    units rated by one coder are excluded (``excluded_units``). The scale (and
    so the weights) comes from ``categories`` or from all values seen.
    Source: Cohen (1960), Educational and Psychological Measurement 20, 37-46;
    weighted: Cohen (1968), Psychological Bulletin 70, 213-220.
    """
    coded = encode(units, coders, values, level="auto", categories=categories)
    if coded.n_coders != 2:
        raise ValueError(f"cohen_kappa needs exactly two coders, got {coded.n_coders}")
    identity = is_identity(weights)
    if coded.is_set and not identity:
        raise ValueError(
            "set-valued ratings have no category order: use weights='identity'"
        )
    return cohen_from_coded(coded, agreement_weights(weights, coded.q), 0, 1)


def contingency(coded: Coded, a: int, b: int) -> tuple[np.ndarray, int]:
    """q x q table of (coder a's value, coder b's value) over units both rated; and the
    number of units rated by exactly one of them."""
    q, nu = coded.q, coded.n_units
    va = np.full(nu, -1, dtype=np.int64)
    vb = np.full(nu, -1, dtype=np.int64)
    ma, mb = coded.coder == a, coded.coder == b
    va[coded.unit[ma]] = coded.value[ma]
    vb[coded.unit[mb]] = coded.value[mb]
    both = (va >= 0) & (vb >= 0)
    one = (va >= 0) ^ (vb >= 0)
    table = np.bincount(va[both] * q + vb[both], minlength=q * q).reshape(q, q)
    return table.astype(float), int(one.sum())


def cohen_from_table(table: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """(kappa, p_a, p_e) of a q x q contingency table under weights w."""
    n = table.sum()
    if n == 0:
        return np.nan, np.nan, np.nan
    pa = float(np.sum(w * table) / n)
    pe = float(table.sum(axis=1) @ w @ table.sum(axis=0) / n**2)
    return ratio(pa - pe, 1.0 - pe), pa, pe


def cohen_from_coded(coded: Coded, w: np.ndarray, a: int, b: int) -> AgreementResult:
    """Cohen's kappa between coder codes a and b of already-coded ratings."""
    table, one = contingency(coded, a, b)
    value, pa, pe = cohen_from_table(table, w)
    n_shared = int(table.sum())
    return AgreementResult(
        value=value,
        coefficient="cohen_kappa",
        n_units=n_shared,
        n_pairable=2 * n_shared,
        n_coders=2,
        excluded_units=one,
        observed=pa,
        expected=pe,
    )
