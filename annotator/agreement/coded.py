"""Public API for ratings coded once as integers and reused by every figure.

The three-column functions in ``annotator.agreement`` each code their input
again; a report that needs every coefficient and breakdown of one variable
codes it once with ``encode`` and hands the ``Coded`` ratings (and the pieces
built from them: ``alpha_parts``, ``rating_pairs``) to the functions below.
Each gives exactly what its three-column counterpart gives on the same input.

    coded = encode(units, coders, values, level="ordinal", categories=scale)
    parts = alpha_parts(coded, "ordinal")
    boot = bootstrap_from_parts(parts, n_resamples=1000)   # bootstrap_alpha
    family = kappa_family(coded, "quadratic")              # percent_agreement, ...
    ij = rating_pairs(coded)
    stats = coder_stats_from_coded(coded, "ordinal", ij, parts)  # coder_stats

Everything here is a re-export: the code lives in the engine's modules, whose
other names (and every module starting with ``_``) are internal.
"""

from ._coding import Coded, encode
from .alpha import AlphaParts, alpha_from_parts, alpha_parts, coincidence_from_parts
from .bootstrap import bootstrap_from_parts
from .breakdowns import (
    RatingPairs,
    pairwise_kappa_from_coded,
    per_category_from_coded,
    pooled_confusion_from_coded,
    rating_pairs,
)
from .coders import coder_stats_from_coded, leave_one_coder_out_alpha
from .grouped import GroupedAlpha, floor_to_monday, grouped_alpha, grouped_alpha_arrays
from .kappa import cohen_from_coded, kappa_family
from .kappa_bootstrap import (
    KAPPA_INTERVALS,
    KappaTables,
    bootstrap_kappa_family,
    kappa_samples,
    kappa_tables,
)
from .uniques import code_integers

__all__ = [
    "KAPPA_INTERVALS",
    "AlphaParts",
    "Coded",
    "GroupedAlpha",
    "KappaTables",
    "RatingPairs",
    "alpha_from_parts",
    "alpha_parts",
    "bootstrap_from_parts",
    "bootstrap_kappa_family",
    "code_integers",
    "coder_stats_from_coded",
    "cohen_from_coded",
    "coincidence_from_parts",
    "encode",
    "floor_to_monday",
    "grouped_alpha",
    "grouped_alpha_arrays",
    "kappa_family",
    "kappa_samples",
    "kappa_tables",
    "leave_one_coder_out_alpha",
    "pairwise_kappa_from_coded",
    "per_category_from_coded",
    "pooled_confusion_from_coded",
    "rating_pairs",
]
