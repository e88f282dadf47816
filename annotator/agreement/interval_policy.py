"""Which interval method each coefficient's published interval uses, and its words.

``METHOD`` is fixed in code, not chosen at run time, so the dashboard, the API,
the CLI and every download print the same interval for one figure. The entries
are the coverage bench's proposal (``bench/coverage.py``; its figures and the
reasoning are in bench/RESULTS.md): BCa where its coverage holds, the score
interval where the estimate sits near 1 and the bootstrap distribution is a
handful of atoms. A change to an entry belongs with a bench run that shows why.
"""

from __future__ import annotations

METHOD: dict[str, str] = {
    "krippendorff_alpha": "bca",
    "percent_agreement": "score",
    "fleiss_kappa": "score",
    "gwet_ac1": "bca",
    "gwet_ac2": "bca",
    "brennan_prediger": "score",
}

# Short names for a table cell ("95% interval (BCa)").
NAME: dict[str, str] = {
    "percentile": "percentile",
    "bca": "BCa",
    "score": "score",
}


def describe(method: str, n_resamples: int) -> str:
    """One line for a report's methods: what the interval is and its source."""
    if method == "bca":
        return f"BCa bootstrap (Efron 1987), {n_resamples:,} resamples of units"
    if method == "score":
        return (
            "score interval (Wilson 1927) with the chance term held at its sample value"
        )
    if method == "percentile":
        return f"percentile bootstrap, {n_resamples:,} resamples of units"
    raise ValueError(f"unknown interval method {method!r}")
