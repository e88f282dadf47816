"""The project's rule order applied to single-choice ratings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._input import METHODS, TIE_EPS, GoldInputError, Ratings, encode
from .dawid_skene import fit_coded
from .result import GoldDecisions, empty
from .rules import decide, majority_coded, single_coded, tally, unanimous_coded


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """``methods`` as a tuple of distinct known rule names, else a named error."""
    methods = tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods or len(set(methods)) != len(methods):
        raise GoldInputError(
            f"methods must be distinct names from {METHODS}, got {methods!r}"
        )
    return methods


def _runner_up(post: np.ndarray, labels: np.ndarray) -> np.ndarray | float:
    """Each unit's second-highest posterior (the highest again when tied), as
    ``np.sort(post, axis=1)[:, -2]`` gives it, without sorting a copy of the
    whole (n_units, k) matrix: a column at a time, the MAP column left out."""
    n, k = post.shape
    if k < 2:
        return 0.0
    out = np.zeros(n)
    for t in range(k):
        # Posteriors are >= 0, so 0 in the MAP column never beats the runner-up.
        np.maximum(out, np.where(labels == t, 0.0, post[:, t]), out=out)
    return out


def chain(
    r: Ratings,
    methods: tuple[str, ...],
    min_share: float,
    inclusive: bool,
    min_posterior: float,
    ds: dict[str, Any],
) -> GoldDecisions:
    """Run ``methods`` in order on coded ratings; the first rule to decide wins."""
    out = empty(r)
    # The tally is dropped after the last rule that reads it: the model's fit,
    # the largest step at a million units, need not hold it too.
    last_tallied = max(
        (i for i, m in enumerate(methods) if m in ("unanimous", "majority")),
        default=-1,
    )
    t = tally(r) if last_tallied >= 0 else None
    model = None
    for i, name in enumerate(methods):
        if i > last_tallied:
            t = None
        if name == "unanimous":
            step = unanimous_coded(r, t)
        elif name == "single":
            step = single_coded(r)
        elif name == "majority":
            step = majority_coded(r, t, min_share, inclusive, 2)
        else:
            model = fit_coded(r, **ds)
            post = model.posterior
            runner_up = _runner_up(post, model.labels)
            ok = (model.map_posterior >= min_posterior) & (
                model.map_posterior > runner_up + TIE_EPS
            )
            step = decide(r, ok, model.labels, "model")
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
    r = encode(units, coders, values, n_categories)
    ds = {"max_iter": max_iter, "tol": tol, "smoothing": smoothing}
    return chain(r, check_methods(methods), min_share, inclusive, min_posterior, ds)
