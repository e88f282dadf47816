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
    counts = np.bincount(r.value * n_units + r.unit, minlength=k * n_units)
    post = counts.reshape(k, n_units) / np.maximum(r.n_ratings, 1)
    del counts  # (k, n_units) arrays are the fit's memory: one fewer held
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
        top = log_post.max(axis=0)
        # The same operations as exp(log_post - top) and exp(log_post - norm),
        # written into one scratch array and then log_post itself, so an
        # iteration holds two (k, n_units) arrays besides the posteriors, not
        # four (same values to the bit).
        shifted = np.subtract(log_post, top)
        norm = top + np.log(np.exp(shifted, out=shifted).sum(axis=0))
        del shifted
        post = np.exp(np.subtract(log_post, norm, out=log_post), out=log_post)
        ll, gain = float(norm.sum()), float(norm.sum()) - ll
        converged = abs(gain) <= tol * len(r.unit)
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
