"""Which interval method each coefficient's published interval uses, and its words.

``METHOD`` is fixed in code, not chosen at run time, so the dashboard, the API,
the CLI and every download print the same interval for one figure. The entries
follow the coverage bench (``bench/coverage.py``; figures and reasoning in
bench/RESULTS.md, "Coverage with a log-jackknife interval" and "... bias-corrected
..."): ``logjack_score``, a normal interval on log(1 - theta) around the
jackknife's bias-corrected estimate with a jackknife standard error over units
(raised to a chance-size floor on weighted scales), and the score interval
where fewer than 2 units disagree (there the jackknife has nothing to spread).
It has the fewest designs outside 93-97 % of every method tried, for every
coefficient (the bench says which remain, and where no interval could do
better). A change to an entry belongs with a bench run that shows why.
"""

from __future__ import annotations

METHOD: dict[str, str] = {
    "krippendorff_alpha": "logjack_score",
    "percent_agreement": "logjack_score",
    "fleiss_kappa": "logjack_score",
    "gwet_ac1": "logjack_score",
    "gwet_ac2": "logjack_score",
    "brennan_prediger": "logjack_score",
}

# A policy entry that picks between methods by the data, and the methods it may
# name on an interval (each interval carries the method that made it).
COMPOSITE: dict[str, tuple[str, ...]] = {"logjack_score": ("logjack", "score")}


def made_by(policy: str) -> tuple[str, ...]:
    """The methods an interval under ``policy`` (a ``METHOD`` value) may name."""
    return COMPOSITE.get(policy, (policy,))


# Short names for a table cell ("95% interval (BCa)").
NAME: dict[str, str] = {
    "percentile": "percentile",
    "bca": "BCa",
    "score": "score",
    "logjack": "log-jackknife",
    "logjack_score": "log-jackknife or score",
}


def describe(method: str, n_resamples: int) -> str:
    """One line for a report's methods: what the interval is and its source."""
    if method == "logjack_score":
        return (
            f"{describe('logjack', n_resamples)}; where fewer than two units "
            f"disagree, the {describe('score', n_resamples)}"
        )
    if method == "bca":
        return f"BCa bootstrap (Efron 1987), {n_resamples:,} resamples of units"
    if method == "score":
        return (
            "score interval (Wilson 1927) with the chance term held at its sample value"
        )
    if method == "logjack":
        return (
            "normal on the log(1 − coefficient) scale around the jackknife's "
            "bias-corrected estimate, with a jackknife standard error over units "
            "(Efron & Tibshirani 1993), raised where a weighted scale's "
            "disagreements are more alike in size than chance's"
        )
    if method == "percentile":
        return f"percentile bootstrap, {n_resamples:,} resamples of units"
    raise ValueError(f"unknown interval method {method!r}")
