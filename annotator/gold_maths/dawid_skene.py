"""The Dawid-Skene model of coder confusion, fitted by EM."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._input import GoldInputError, Ratings, encode
from .result import DawidSkeneResult


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
    # Posteriors are kept as (k, n_units): each class is one contiguous row, so
    # the per-rating gathers (take) and group sums (bincount) run on 1-D arrays.
    # Start: the soft majority vote, each unit's category shares (as in the paper).
    # (k, n_units) arrays are the fit's memory, so the start is built a class
    # at a time into the one array rather than from a (k, n_units) count table.
    post = np.empty((k, n_units))
    per_unit = np.maximum(r.n_ratings, 1)
    for t in range(k):
        np.divide(np.bincount(r.unit[r.value == t], minlength=n_units), per_unit,
                  out=post[t])  # fmt: skip
    del per_unit
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
        # The posteriors' last use until the E-step makes new ones: let them go
        # now, so an iteration never holds old and new posteriors at once.
        del post
        conf = table.reshape(k, n_coders, k).transpose(1, 0, 2) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        # E-step in log space: log p_t + sum over the unit's ratings of
        # log pi_j[t, said]; a product of many small terms would underflow.
        log_conf = np.log(conf).transpose(1, 0, 2).reshape(k, n_cells)
        log_prior = np.log(priors)
        log_post = np.empty((k, n_units))  # filled row by row: no stacked copy
        for t in range(k):
            np.add(
                np.bincount(r.unit, log_conf[t].take(cell), n_units),
                log_prior[t],
                out=log_post[t],
            )
        # Normalised a class at a time (the sum over classes adds the rows in
        # order, as sum(axis=0) does: the same values to the bit), so an
        # iteration holds one (k, n_units) array and a few rows, not two.
        top = log_post.max(axis=0)
        total, scratch = np.zeros(n_units), np.empty(n_units)
        for t in range(k):
            total += np.exp(np.subtract(log_post[t], top, out=scratch), out=scratch)
        del scratch
        norm = top + np.log(total)
        del top, total
        for t in range(k):
            np.exp(np.subtract(log_post[t], norm, out=log_post[t]), out=log_post[t])
        post = log_post
        del log_post  # one name for it, so the M-step's del lets it go
        ll, gain = float(norm.sum()), float(norm.sum()) - ll
        converged = abs(gain) <= tol * len(r.unit)
    # Returned as the (n_units, k) view of the (k, n_units) array, not a
    # contiguous copy: at a million units that copy was 40 MB more at the peak.
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
    coder is informative), which majority vote cannot. Everything is
    vectorised: each iteration is a ``take`` + ``bincount`` per class over the
    ratings (sums per (coder, said) cell and per unit), in log space against
    underflow.

    Source: Dawid, A. P. & Skene, A. M. (1979), "Maximum likelihood estimation
    of observer error-rates using the EM algorithm", Applied Statistics 28(1),
    20-28; smoothing as in Raykar et al. (2010), JMLR 11, 1297-1322.
    """
    return fit_coded(
        encode(units, coders, values, n_categories), max_iter, tol, smoothing
    )
