"""Inter-coder agreement engine: pure Python + numpy, no Django.

Every function takes parallel sequences ``units``, ``coders``, ``values``
(one entry per rating; a missing rating is an absent row). Ratings already
coded as integers (one coding reused by every figure, as the agreement report
does) go through ``annotator.agreement.coded``. See README.md in this folder
for the module map, the data flow and the formula sources.
"""

from ._coding import LEVELS, RatingsInputError
from .alpha import krippendorff_alpha
from .bootstrap import BootstrapResult, bootstrap_alpha
from .breakdowns import (
    LabeledMatrix,
    alpha_per_category,
    coincidence_matrix,
    confusion_matrix,
    pairwise_cohen_kappa,
)
from .coders import CoderStats, coder_stats
from .csvinput import Ratings, read_ratings_csv, summary
from .grouped import alpha_by_group, alpha_over_time
from .kappa import (
    brennan_prediger,
    cohen_kappa,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    gwet_ac2,
    percent_agreement,
    scott_pi,
)
from .metrics import WEIGHT_NAMES, agreement_weights, masi_distance
from .result import AgreementResult

__all__ = [
    "LEVELS",
    "WEIGHT_NAMES",
    "AgreementResult",
    "BootstrapResult",
    "CoderStats",
    "LabeledMatrix",
    "Ratings",
    "RatingsInputError",
    "agreement_weights",
    "alpha_by_group",
    "alpha_over_time",
    "alpha_per_category",
    "bootstrap_alpha",
    "brennan_prediger",
    "coder_stats",
    "cohen_kappa",
    "coincidence_matrix",
    "confusion_matrix",
    "conger_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "gwet_ac2",
    "krippendorff_alpha",
    "masi_distance",
    "pairwise_cohen_kappa",
    "percent_agreement",
    "read_ratings_csv",
    "scott_pi",
    "summary",
]
