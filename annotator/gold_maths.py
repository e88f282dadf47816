"""Aggregation of coders' ratings to gold labels: pure Python + numpy, no Django.

Every function takes parallel arrays ``units``, ``coders``, ``values`` -- one
entry per rating, a missing rating is an absent row. Unit and coder ids are any
integers (span and user ids); values are category codes ``0 .. n_categories-1``
(the caller maps Category rows to positions). ``annotator/gold.py`` feeds these
functions per project and dimension and stores the result as GoldLabel rows.

Rules, applied in the project's configured order by ``aggregate`` (a unit takes
the first rule that decides it; units no rule decides go to adjudication):

* ``unanimous``: >= 2 ratings, all equal.
* ``single``: exactly one rating, taken as is.
* ``majority``: the modal value when it is unique and its share of the unit's
  ratings is strictly above ``min_share`` (``inclusive=True``: at least).
* ``model``: the maximum a posteriori class of a Dawid-Skene model fitted on all
  ratings of the dimension (Dawid & Skene 1979), if its posterior reaches
  ``min_posterior`` and is not tied.

Set-valued (multi-choice) dimensions are aggregated per category as binary
chosen/not-chosen ratings (``aggregate_sets``), see its docstring.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

METHODS = ("unanimous", "single", "majority", "model")
UNDECIDED = -1
_TIE_EPS = 1e-12  # posteriors/shares closer than this count as equal


class GoldInputError(ValueError):
    """Bad ratings input: ragged columns, non-integer ids, value off the scale,
    a coder rating one unit twice, or an unknown method."""


# --------------------------------------------------------------------- results


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


# ---------------------------------------------------------------- input coding


@dataclass(frozen=True)
class _Ratings:
    """Ratings sorted by unit, with units and coders coded 0..n-1."""

    unit: np.ndarray
    coder: np.ndarray
    value: np.ndarray
    unit_ids: np.ndarray
    coder_ids: np.ndarray
    n_categories: int
    n_ratings: np.ndarray  # per unit code
    starts: np.ndarray  # first row of each unit

    def with_values(self, value: np.ndarray, n_categories: int) -> _Ratings:
        return _Ratings(
            self.unit,
            self.coder,
            value,
            self.unit_ids,
            self.coder_ids,
            n_categories,
            self.n_ratings,
            self.starts,
        )


def _int_column(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise GoldInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64, copy=False)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == arr.round()).all():
        return arr.astype(np.int64)
    raise GoldInputError(
        f"{name} must be integer codes, got dtype {arr.dtype} (e.g. {arr.flat[0]!r})"
    )


def _encode_ids(units: Any, coders: Any, n: int) -> tuple[np.ndarray, ...]:
    u, c = _int_column(units, "units"), _int_column(coders, "coders")
    if len(u) != n or len(c) != n:
        raise GoldInputError(
            f"units, coders and values must have the same length "
            f"(got {len(u)}, {len(c)}, {n})"
        )
    unit_ids, ucode = np.unique(u, return_inverse=True)
    coder_ids, ccode = np.unique(c, return_inverse=True)
    ucode, ccode = ucode.ravel(), ccode.ravel()
    key = ucode * max(len(coder_ids), 1) + ccode
    order = np.argsort(key, kind="stable")
    sk = key[order]
    dup = np.flatnonzero(sk[1:] == sk[:-1])
    if len(dup):
        r = order[dup[0]]
        raise GoldInputError(f"coder {int(c[r])} rated unit {int(u[r])} more than once")
    return unit_ids, coder_ids, ucode[order], ccode[order], order


def _finish(unit_ids, coder_ids, u, c, v, k) -> _Ratings:
    n_ratings = np.bincount(u, minlength=len(unit_ids))
    starts = np.concatenate(([0], np.cumsum(n_ratings)[:-1])).astype(np.int64)
    return _Ratings(u, c, v, unit_ids, coder_ids, k, n_ratings, starts)


def _encode(units: Any, coders: Any, values: Any, n_categories: int | None) -> _Ratings:
    v = _int_column(values, "values")
    unit_ids, coder_ids, u, c, order = _encode_ids(units, coders, len(v))
    v = v[order]
    if n_categories is None:
        n_categories = int(v.max()) + 1 if len(v) else 1
    if n_categories < 1:
        raise GoldInputError(f"n_categories must be >= 1, got {n_categories}")
    bad = np.flatnonzero((v < 0) | (v >= n_categories))
    if len(bad):
        raise GoldInputError(
            f"value {int(v[bad[0]])} is not a category code 0..{n_categories - 1}"
        )
    return _finish(unit_ids, coder_ids, u, c, v, n_categories)


def _empty(r: _Ratings) -> GoldDecisions:
    n = len(r.unit_ids)
    return GoldDecisions(
        r.unit_ids,
        np.full(n, UNDECIDED, np.int64),
        np.full(n, UNDECIDED, np.int8),
        np.full(n, np.nan),
        r.n_ratings,
    )


# ------------------------------------------------------------- simple rules


@dataclass(frozen=True)
class _Tally:
    """Distinct (unit, value) pairs with counts, sorted by unit then value."""

    unit: np.ndarray
    value: np.ndarray
    count: np.ndarray


def _tally(r: _Ratings) -> _Tally:
    k = r.n_categories
    keys, counts = np.unique(r.unit * k + r.value, return_counts=True)
    return _Tally(keys // k, keys % k, counts)


def _decide(r: _Ratings, mask: np.ndarray, value: np.ndarray, method: str):
    d = _empty(r)
    d.values[mask] = value[mask]
    d.methods[mask] = METHODS.index(method)
    return d


def _unanimous(r: _Ratings, t: _Tally) -> GoldDecisions:
    n_distinct = np.bincount(t.unit, minlength=len(r.unit_ids))
    value = np.full(len(r.unit_ids), UNDECIDED, np.int64)
    value[t.unit] = t.value  # the only entry where n_distinct == 1
    return _decide(r, (r.n_ratings >= 2) & (n_distinct == 1), value, "unanimous")


def _single(r: _Ratings) -> GoldDecisions:
    value = np.full(len(r.unit_ids), UNDECIDED, np.int64)
    value[r.unit] = r.value
    return _decide(r, r.n_ratings == 1, value, "single")


def _majority(
    r: _Ratings, t: _Tally, min_share: float, inclusive: bool, min_ratings: int
) -> GoldDecisions:
    if not 0.0 <= min_share < 1.0:
        raise GoldInputError(f"min_share must be in [0, 1), got {min_share}")
    n_units = len(r.unit_ids)
    if len(t.unit) == 0:
        return _empty(r)
    starts = np.flatnonzero(np.r_[True, t.unit[1:] != t.unit[:-1]])
    top = np.maximum.reduceat(t.count, starts)  # per unit (all units have entries)
    is_top = t.count == top[t.unit]
    n_top = np.bincount(t.unit[is_top], minlength=n_units)
    value = np.full(n_units, UNDECIDED, np.int64)
    value[t.unit[is_top]] = t.value[is_top]
    share = top / r.n_ratings
    enough = (
        share >= min_share - _TIE_EPS if inclusive else share > min_share + _TIE_EPS
    )
    mask = (n_top == 1) & enough & (r.n_ratings >= min_ratings)
    return _decide(r, mask, value, "majority")


def unanimous(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
) -> GoldDecisions:
    """Decide every unit with at least two ratings that are all equal.

    Why two: one rating agrees with itself trivially; that case is ``single``,
    a weaker provenance the export must be able to tell apart.
    """
    r = _encode(units, coders, values, None)
    return _unanimous(r, _tally(r))


def single(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
) -> GoldDecisions:
    """Decide every unit with exactly one rating by that rating.

    Why: outside the reliability sample a span is coded once by design, and its
    only rating is the best evidence there is (agreement on the sample is what
    vouches for it).
    """
    return _single(_encode(units, coders, values, None))


def majority(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    *,
    min_share: float = 0.5,
    inclusive: bool = False,
    min_ratings: int = 2,
) -> GoldDecisions:
    """Decide a unit by its modal value if that mode is unique and its share of
    the unit's ratings is strictly above ``min_share`` (at least, with
    ``inclusive=True``); units with fewer than ``min_ratings`` ratings and
    ties for the mode stay undecided.

    Why strict by default: ``min_share=0.5`` then means an absolute majority
    (2 of 3, 3 of 4, never 2 of 4), the classic rule, and makes the mode unique
    by itself; "at least" suits quota rules like two thirds (2 of 3 passes
    ``min_share=2/3, inclusive=True``). ``min_share=0`` gives a plurality rule
    with ties undecided. Shares within 1e-12 of ``min_share`` count as equal so
    2/3 is not lost to rounding. Source: the usual majority-vote baseline of
    label aggregation, e.g. Snow et al. (2008), EMNLP, 254-263.
    """
    r = _encode(units, coders, values, None)
    return _majority(r, _tally(r), min_share, inclusive, min_ratings)


# ------------------------------------------------------------- Dawid-Skene


def _dawid_skene(
    r: _Ratings, max_iter: int, tol: float, smoothing: float
) -> DawidSkeneResult:
    n_units, n_coders, k = len(r.unit_ids), len(r.coder_ids), r.n_categories
    if max_iter < 1 or tol <= 0 or smoothing < 0:
        raise GoldInputError(
            f"need max_iter >= 1, tol > 0, smoothing >= 0 "
            f"(got {max_iter}, {tol}, {smoothing})"
        )
    n_cells = n_coders * k  # one (coder, said) cell per row of a confusion table
    # Posteriors are kept as (k, n_units): each class is one contiguous row, so
    # the per-rating gathers (take) and group sums (bincount) run on 1-D arrays.
    # Start: the soft majority vote, each unit's category shares (as in the paper).
    counts = np.bincount(r.value * n_units + r.unit, minlength=k * n_units)
    post = counts.reshape(k, n_units) / np.maximum(r.n_ratings, 1)
    cell = r.coder * k + r.value
    priors = np.full(k, 1.0 / k)
    conf = np.tile(np.eye(k), (n_coders, 1, 1))
    ll, converged, it = -np.inf, n_units == 0, 0
    while not converged and it < max_iter:
        it += 1
        # M-step: priors and confusion matrices from the current posteriors.
        priors = (post.sum(axis=1) + smoothing) / (n_units + k * smoothing)
        table = np.stack(
            [np.bincount(cell, post[t].take(r.unit), n_cells) for t in range(k)]
        )  # [truth, coder * k + said]
        conf = table.reshape(k, n_coders, k).transpose(1, 0, 2) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        # E-step in log space: log p_t + sum over the unit's ratings of
        # log pi_j[t, said]; a product of many small terms would underflow.
        with np.errstate(divide="ignore"):
            log_conf = np.log(conf).transpose(1, 0, 2).reshape(k, n_cells)
            log_prior = np.log(priors)
        log_post = np.stack(
            [
                np.bincount(r.unit, log_conf[t].take(cell), n_units) + log_prior[t]
                for t in range(k)
            ]
        )
        top = log_post.max(axis=0)
        norm = top + np.log(np.exp(log_post - top).sum(axis=0))
        new = np.exp(log_post - norm)
        ll, gain = float(norm.sum()), float(norm.sum()) - ll
        converged = abs(gain) <= tol * len(r.unit)
        post = new
    post = np.ascontiguousarray(post.T)
    labels = post.argmax(axis=1).astype(np.int64)
    return DawidSkeneResult(
        r.unit_ids,
        r.coder_ids,
        post,
        labels,
        post.max(axis=1, initial=0.0),
        priors,
        conf,
        np.einsum("k,jkk->j", priors, conf),
        it,
        converged,
        ll,
    )


def dawid_skene(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    n_categories: int,
    *,
    max_iter: int = 200,
    tol: float = 1e-8,
    smoothing: float = 0.01,
) -> DawidSkeneResult:
    """Fit the Dawid-Skene model by EM: each coder has a confusion matrix
    pi_j[k, l] = P(says l | truth k), classes have priors p_k, and ratings are
    independent given the true class.

    EM starts from the soft majority vote (each unit's category shares, as in
    the paper), alternates M-step (p_k = mean posterior, pi_j from posterior-
    weighted counts) and E-step (posterior proportional to
    p_k * prod pi_j[k, said]), and stops when an iteration changes the
    log-likelihood by at most ``tol`` per rating, or after ``max_iter``
    iterations (``converged`` tells which); EM's tail is slow where the data
    barely identify the model (few coders, near-chance accuracy), and there a
    per-rating criterion stops once the labels have settled. ``smoothing`` is
    a Dirichlet pseudo-count added to every confusion cell and prior (a MAP
    rather than ML estimate), so a coder who never used a category does not get
    a log(0) that vetoes it. Why a model at all: it weights coders by how
    reliable they are and reads systematic confusions (even an adversarial
    coder is informative), which majority vote cannot. Everything is
    vectorised: a group-sum per (coder, value) and per unit (``reduceat``)
    each iteration, log space against underflow.

    Source: Dawid, A. P. & Skene, A. M. (1979), "Maximum likelihood estimation
    of observer error-rates using the EM algorithm", Applied Statistics 28(1),
    20-28; smoothing as in Raykar et al. (2010), JMLR 11, 1297-1322.
    """
    return _dawid_skene(
        _encode(units, coders, values, n_categories), max_iter, tol, smoothing
    )


# ------------------------------------------------------------- rule chains


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    methods = tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods or len(set(methods)) != len(methods):
        raise GoldInputError(
            f"methods must be distinct names from {METHODS}, got {methods!r}"
        )
    return methods


def _chain(
    r: _Ratings,
    methods: tuple[str, ...],
    min_share: float,
    inclusive: bool,
    min_posterior: float,
    ds: dict[str, Any],
) -> GoldDecisions:
    out = _empty(r)
    t = _tally(r)
    model = None
    for name in methods:
        if name == "unanimous":
            step = _unanimous(r, t)
        elif name == "single":
            step = _single(r)
        elif name == "majority":
            step = _majority(r, t, min_share, inclusive, 2)
        else:
            model = _dawid_skene(r, **ds)
            post = model.posterior
            runner_up = np.sort(post, axis=1)[:, -2] if r.n_categories > 1 else 0.0
            ok = (model.map_posterior >= min_posterior) & (
                model.map_posterior > runner_up + _TIE_EPS
            )
            step = _decide(r, ok, model.labels, "model")
        take = ~out.decided & step.decided
        out.values[take] = step.values[take]
        out.methods[take] = step.methods[take]
    if model is not None:
        done = np.flatnonzero(out.decided)
        out.posteriors[done] = model.posterior[done, out.values[done]]
    return GoldDecisions(
        out.units, out.values, out.methods, out.posteriors, out.n_ratings, model
    )


def aggregate(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    n_categories: int,
    *,
    methods: Sequence[str] = ("unanimous", "single", "majority"),
    min_share: float = 0.5,
    inclusive: bool = False,
    min_posterior: float = 0.0,
    max_iter: int = 200,
    tol: float = 1e-8,
    smoothing: float = 0.01,
) -> GoldDecisions:
    """Apply the project's rules in order; each unit takes the first that decides it.

    Typical orders are ``("unanimous", "single", "majority")`` and
    ``("unanimous", "single", "model")``; any order of distinct names from
    ``METHODS`` is accepted. ``majority`` uses ``min_share``/``inclusive`` (see
    ``majority``); ``model`` fits Dawid-Skene on *all* ratings of the dimension
    (unanimous units carry the evidence about coder quality) and decides a
    remaining unit when its MAP posterior is at least ``min_posterior`` and not
    tied. When the model is fitted, ``posteriors`` holds each decided unit's
    posterior for its value whatever rule decided it (a unanimous pair of weak
    coders shows up as a low posterior) and ``model`` keeps the fit (coder
    accuracies for the report). Undecided units go to adjudication.
    """
    r = _encode(units, coders, values, n_categories)
    ds = {"max_iter": max_iter, "tol": tol, "smoothing": smoothing}
    return _chain(r, _check_methods(methods), min_share, inclusive, min_posterior, ds)


def labels_to_indicators(
    rating_units: Sequence[int] | np.ndarray,
    rating_coders: Sequence[int] | np.ndarray,
    label_units: Sequence[int] | np.ndarray,
    label_coders: Sequence[int] | np.ndarray,
    label_values: Sequence[int] | np.ndarray,
    n_categories: int,
) -> np.ndarray:
    """Bool matrix (n_ratings, n_categories): row i marks the categories that
    rating (rating_units[i], rating_coders[i]) chose, from one row per Label.

    Why two inputs: a rating that chose nothing (an empty set) has no Label
    row but is still a rating saying "none of these"; the ratings come from the
    Annotation rows, the choices from the Label rows.
    """
    ru, rc = (
        _int_column(rating_units, "rating_units"),
        _int_column(rating_coders, "rating_coders"),
    )
    lu, lc, lv = (
        _int_column(x, n)
        for x, n in (
            (label_units, "label_units"),
            (label_coders, "label_coders"),
            (label_values, "label_values"),
        )
    )
    if len(ru) != len(rc) or not len(lu) == len(lc) == len(lv):
        raise GoldInputError("rating and label columns must have matching lengths")
    if len(lv) and (lv.min() < 0 or lv.max() >= n_categories):
        raise GoldInputError(f"label_values must be codes 0..{n_categories - 1}")
    rkey = np.stack([ru, rc], axis=1)
    _, inv = np.unique(
        np.concatenate([rkey, np.stack([lu, lc], axis=1)]), axis=0, return_inverse=True
    )
    inv = inv.ravel()
    row_of = np.full(inv.max() + 1 if len(inv) else 0, -1, np.int64)
    row_of[inv[: len(ru)]] = np.arange(len(ru))
    rows = row_of[inv[len(ru) :]]
    if (rows < 0).any():
        i = int(np.flatnonzero(rows < 0)[0])
        raise GoldInputError(
            f"label of coder {int(lc[i])} on unit {int(lu[i])} has no rating row"
        )
    out = np.zeros((len(ru), n_categories), dtype=bool)
    out[rows, lv] = True
    return out


def aggregate_sets(
    units: Sequence[int] | np.ndarray,
    coders: Sequence[int] | np.ndarray,
    chosen: np.ndarray,
    *,
    methods: Sequence[str] = ("unanimous", "single", "majority"),
    min_share: float = 0.5,
    inclusive: bool = False,
    min_posterior: float = 0.0,
    allow_empty: bool = True,
    max_iter: int = 200,
    tol: float = 1e-8,
    smoothing: float = 0.01,
) -> GoldDecisions:
    """Aggregate a multi-choice dimension: one binary aggregation per category.

    ``chosen`` is a bool matrix (n_ratings, n_categories) (see
    ``labels_to_indicators``). For each category k the ratings become "chose k"
    (1) / "did not" (0) and go through the same rule chain as ``aggregate``;
    the gold set is the categories decided 1. A unit is decided only when
    every category is; its method is the latest rule in ``methods`` that any
    of its categories needed (``category_methods`` keeps the detail), so
    "unanimous" means identical sets and "single" one rating. With the model,
    each category gets its own binary Dawid-Skene fit and the set's posterior
    is the product of the categories' posteriors (independence across
    categories, an approximation). ``allow_empty=False`` sends units whose
    decided set is empty to adjudication (for required dimensions).

    Why per category: whole-set majority splits votes over every distinct set,
    so {a,b}/{a}/{a,c} would have no winner though all three coders chose a;
    per-category voting is the standard reduction of multi-label aggregation to
    binary problems (Nowak & Rueger 2010, Proc. MIR, 557-566; Zhang & Zhou 2014,
    IEEE TKDE 26(8), 1819-1837, "binary relevance").
    """
    mat = np.asarray(chosen)
    if mat.ndim != 2 or mat.dtype.kind not in "bui":
        raise GoldInputError(
            f"chosen must be a 2-D bool matrix (ratings x categories), "
            f"got shape {mat.shape} dtype {mat.dtype}"
        )
    if mat.dtype.kind != "b" and ((mat != 0) & (mat != 1)).any():
        raise GoldInputError("chosen must hold only 0/1 or booleans")
    methods = _check_methods(methods)
    unit_ids, coder_ids, u, c, order = _encode_ids(units, coders, len(mat))
    mat = mat[order].astype(np.int64)
    n_cat = mat.shape[1]
    if n_cat == 0:
        raise GoldInputError("chosen has no category columns")
    base = _finish(unit_ids, coder_ids, u, c, mat[:, 0], 2)
    ds = {"max_iter": max_iter, "tol": tol, "smoothing": smoothing}
    n_units = len(unit_ids)
    values = np.zeros((n_units, n_cat), dtype=bool)
    cat_methods = np.full((n_units, n_cat), UNDECIDED, np.int8)
    posterior = np.ones(n_units)
    rank = np.array([METHODS.index(m) for m in methods])
    order_of = np.full(len(METHODS), -1)
    order_of[rank] = np.arange(len(rank))
    worst = np.full(n_units, -1)
    for k in range(n_cat):
        d = _chain(
            base.with_values(mat[:, k], 2),
            methods,
            min_share,
            inclusive,
            min_posterior,
            ds,
        )
        values[:, k] = d.values == 1
        cat_methods[:, k] = d.methods
        pos = np.where(d.decided, order_of[d.methods], len(METHODS))
        worst = np.maximum(worst, pos)
        posterior *= np.nan_to_num(d.posteriors, nan=1.0)
    decided = worst < len(METHODS)
    if not allow_empty:
        decided &= values.any(axis=1)
    out_methods = np.where(decided, rank[np.minimum(worst, len(rank) - 1)], UNDECIDED)
    values[~decided] = False
    has_model = "model" in methods
    return GoldDecisions(
        unit_ids,
        values,
        out_methods.astype(np.int8),
        np.where(decided & has_model, posterior, np.nan),
        base.n_ratings,
        None,
        cat_methods,
    )
