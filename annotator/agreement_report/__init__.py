"""A project's agreement report: labels read as arrays, figures from the engine.

The one place the dashboard, the API and the ``agreement`` command get their
figures from. Labels are read with one aggregate query per table (PostgreSQL:
the rows come back packed in one binary string that numpy reads without a
Python loop; elsewhere ``values_list``), never as model instances, and the
ratings of a dimension are coded once and handed to every coefficient and
breakdown. A label repeats its annotation's project, span and coder, so a
dimension's ratings are one index range of one table; annotation times and
documents are read (from ``Annotation`` and ``WorkItem``, by project) only
for the figures that need them.

Rating model: the unit is the span, the coder is the user. A single-choice
dimension gives one rating per label row (a coder who left an optional
dimension blank gave no rating). A multi-choice dimension gives one rating
per annotation: the set of chosen categories, possibly empty, compared with
MASI. Dimensions are matched across codebook versions by key, categories by
key; the scale is the project's codebook version's categories in order
(ordinal: by numeric value when every category has one).

Modules: ``arrays`` reads the labels (single-table reads, in parallel on
PostgreSQL, joined in numpy); ``report`` builds every figure from them.
"""

from .arrays import (
    AnnotationArrays,
    CategoryScale,
    LabelArrays,
    annotation_arrays,
    category_scale,
    label_arrays,
    read_project,
)
from .report import (
    OVER,
    RELIABLE,
    TENTATIVE,
    CoderRow,
    DimensionReport,
    GroupRow,
    ProjectReport,
    band,
    coder_medians,
    dimension_report,
    project_report,
    reading,
)

__all__ = [
    "OVER",
    "RELIABLE",
    "TENTATIVE",
    "AnnotationArrays",
    "CategoryScale",
    "CoderRow",
    "DimensionReport",
    "GroupRow",
    "LabelArrays",
    "ProjectReport",
    "annotation_arrays",
    "band",
    "category_scale",
    "coder_medians",
    "dimension_report",
    "label_arrays",
    "project_report",
    "read_project",
    "reading",
]
