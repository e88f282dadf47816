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

from ._input import METHODS, UNDECIDED, GoldInputError
from .chain import aggregate
from .dawid_skene import dawid_skene
from .result import DawidSkeneResult, GoldDecisions, GoldRow
from .rules import majority, single, unanimous
from .sets import aggregate_sets, labels_to_indicators

__all__ = [
    "METHODS",
    "UNDECIDED",
    "DawidSkeneResult",
    "GoldDecisions",
    "GoldInputError",
    "GoldRow",
    "aggregate",
    "aggregate_sets",
    "dawid_skene",
    "labels_to_indicators",
    "majority",
    "single",
    "unanimous",
]
