"""The Dawid-Skene model of coder confusion, fitted by EM."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._input import GoldInputError, Ratings, encode
from .result import DawidSkeneResult


def rating_patterns(r: Ratings) -> tuple[np.ndarray, ...]:
    """Units grouped by what they were told: two units whose ratings are the same
    (coder, said) cells share one pattern, and the model gives them the same
    posterior. Returns each unit's pattern, each pattern's number of units, and
    the patterns' ratings as parallel (pattern, cell) arrays (cell = coder * k
    + said). Most units of a large project have one rating, so a million units
    fall into a few thousand patterns (1,743 and 6,939 in bench/gold.py's data)."""
    k = r.n_categories
    cell = r.coder * k + r.value  # within a unit, in coder order (see encode)
    of_unit = np.empty(len(r.unit_ids), dtype=np.int64)
    weights, owners, cells, found = [], [], [], 0
    for n in np.unique(r.n_ratings).tolist():
        units = np.flatnonzero(r.n_ratings == n)
        rows = cell[r.starts[units][:, None] + np.arange(n)]  # (units, n)
        distinct, inverse, count = np.unique(
            rows, axis=0, return_inverse=True, return_counts=True
        )
        of_unit[units] = found + inverse.ravel()
        weights.append(count)
        owners.append(found + np.repeat(np.arange(len(distinct)), n))
        cells.append(distinct.ravel())
        found += len(distinct)
    if not weights:
        empty = np.zeros(0, dtype=np.int64)
        return of_unit, empty, empty, empty
    return (
        of_unit,
        np.concatenate(weights),
        np.concatenate(owners),
        np.concatenate(cells),
    )


def fit_coded(
    r: Ratings, max_iter: int, tol: float, smoothing: float
) -> DawidSkeneResult:
    n_units, n_coders, k = len(r.unit_ids), len(r.coder_ids), r.n_categories
    if max_iter < 1 or tol <= 0 or not smoothing > 0:
        raise GoldInputError(
            f"need max_iter >= 1, tol > 0, smoothing > 0 "
            f"(got {max_iter}, {tol}, {smoothing})"
        )
    n_cells = n_coders * k  # one (coder, said) cell per row of a confusion table
    # EM runs over rating patterns, each weighted by its number of units: the
    # same sums as over units (the posterior of a unit is its pattern's), in a
    # few thousand entries instead of a million, so an iteration costs
    # microseconds and no (k, n_units) array exists until the end.
    of_unit, weight, owner, cell = rating_patterns(r)
    n_patterns, said = len(weight), cell % k
    weight = weight.astype(np.float64)
    # Posteriors are kept as (k, n_patterns): each class is one contiguous row.
    # Start: the soft majority vote, each unit's category shares (as in the paper).
    per_pattern = np.maximum(np.bincount(owner, minlength=n_patterns), 1)
    post = np.stack(
        [np.bincount(owner[said == t], minlength=n_patterns) for t in range(k)]
    ) / per_pattern if k else np.zeros((0, n_patterns))  # fmt: skip
    priors = np.full(k, 1.0 / k)
    conf = np.tile(np.eye(k), (n_coders, 1, 1))
    ll, converged, it = -np.inf, n_units == 0, 0
    while not converged and it < max_iter:
        it += 1
        # M-step: priors and confusion matrices from the current posteriors.
        mass = post * weight  # each pattern counts once per unit it stands for
        priors = (mass.sum(axis=1) + smoothing) / (n_units + k * smoothing)
        table = np.stack(
            [np.bincount(cell, mass[t].take(owner), n_cells) for t in range(k)]
        )  # [truth, coder * k + said]
        conf = table.reshape(k, n_coders, k).transpose(1, 0, 2) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        # E-step in log space: log p_t + sum over the pattern's ratings of
        # log pi_j[t, said]; a product of many small terms would underflow.
        log_conf = np.log(conf).transpose(1, 0, 2).reshape(k, n_cells)
        log_post = np.stack(
            [np.bincount(owner, log_conf[t].take(cell), n_patterns) for t in range(k)]
        ) + np.log(priors)[:, None]  # fmt: skip
        top = log_post.max(axis=0)
        norm = top + np.log(np.exp(log_post - top).sum(axis=0))
        post = np.exp(log_post - norm)
        total = float(weight @ norm)
        ll, gain = total, total - ll
        converged = abs(gain) <= tol * len(r.unit)
    # Each unit takes its pattern's posterior: (k, n_units), returned as its
    # (n_units, k) view (a contiguous copy would be 40 MB more at a million).
    post = post[:, of_unit]
    labels, map_posterior = _argmax_rows(post)
    return DawidSkeneResult(
        r.unit_ids,
        r.coder_ids,
        post.T,
        labels,
        map_posterior,
        priors,
        conf,
        np.einsum("k,jkk->j", priors, conf),
        it,
        converged,
        ll,
    )


def _argmax_rows(post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a (k, n) array, the first row holding its maximum and the
    maximum: ``argmax(axis=0)`` and ``max(axis=0)``, a row at a time, since
    numpy's argmax over the first axis makes a transposed copy of the array."""
    k, n = post.shape
    labels = np.zeros(n, dtype=np.int64)
    if k == 0:
        return labels, np.zeros(n)
    best = post[0].copy()
    for t in range(1, k):
        better = post[t] > best  # strict: a tie keeps the first class, as argmax
        labels[better] = t
        np.maximum(best, post[t], out=best)
    return labels, best


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
    rather than ML estimate); it must be > 0: without it a coder who never used
    a category gets a log(0) that vetoes it, and a class with no posterior
    weight leaves 0/0 cells. Why a model at all: it weights coders by how
    reliable they are and reads systematic confusions (even an adversarial
    coder is informative), which majority vote cannot. Units with the same
    ratings (the same coders saying the same) have the same posterior, so EM
    runs over these rating patterns weighted by their counts
    (``rating_patterns``): the same sums, in far fewer terms. Each iteration
    is a ``take`` + ``bincount`` per class (sums per (coder, said) cell and per
    pattern), in log space against underflow.

    Source: Dawid, A. P. & Skene, A. M. (1979), "Maximum likelihood estimation
    of observer error-rates using the EM algorithm", Applied Statistics 28(1),
    20-28; smoothing as in Raykar et al. (2010), JMLR 11, 1297-1322.
    """
    return fit_coded(
        encode(units, coders, values, n_categories), max_iter, tol, smoothing
    )
