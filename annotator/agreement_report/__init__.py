"""A project's agreement report: every coefficient and breakdown per dimension.

The one place the dashboard, the API and the ``agreement`` command get their
figures from. The ratings are read by ``annotator.ratings`` (one aggregate
query per table, never model instances), and the ratings of a dimension are
coded once and handed to every coefficient and breakdown of the agreement
engine (``annotator.agreement.coded``).

Rating model (see ``annotator.ratings``): the unit is the span, the coder is
the user; a multi-choice dimension gives one rating per annotation, the set of
chosen categories, compared with MASI. The scale is the project's codebook
version's categories in order (ordinal: by numeric value when every category
has one).

Modules: ``report`` (``project_report``, ``dimension_report``: the figures
from the engine), ``groups`` (alpha per document and per week or batch),
``records`` (the report's records, their JSON form, the .667/.800 verdicts),
``options`` (the trend's grouping and the codebook version, read from query
parameters), ``table`` (the report as flat rows, one per coefficient: the CSV).
"""

from .groups import OVER
from .options import (
    Options,
    ReportRequestError,
    parse_options,
    report_request,
    version_asked,
)
from .records import (
    MIN_PAIRABLE_UNITS,
    RELIABLE,
    TENTATIVE,
    CoderRow,
    DimensionReport,
    GroupRow,
    ProjectReport,
    band,
    reading,
)
from .report import coder_medians, dimension_report, project_report
from .table import COLUMNS as TABLE_COLUMNS
from .table import report_rows

__all__ = [
    "MIN_PAIRABLE_UNITS",
    "OVER",
    "RELIABLE",
    "TABLE_COLUMNS",
    "TENTATIVE",
    "CoderRow",
    "DimensionReport",
    "GroupRow",
    "Options",
    "ProjectReport",
    "band",
    "coder_medians",
    "dimension_report",
    "parse_options",
    "report_request",
    "ReportRequestError",
    "project_report",
    "reading",
    "report_rows",
    "version_asked",
]
