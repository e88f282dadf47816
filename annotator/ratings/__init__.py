"""Reading a project's ratings into numpy arrays (shared by agreement and gold).

Reads never build model instances: each is one index range of one table,
filtered by project (PostgreSQL sends the rows packed in one binary string),
independent reads run in parallel where that is safe, and the tables are joined
in numpy. Dimensions and categories are matched by key across codebook
versions, so a label made under an older version counts for the dimension and
category with the same key.

Rating model: the unit is the span, the coder is the user. A single-choice
dimension gives one rating per label row (a coder who left an optional
dimension blank gave no rating); a multi-choice dimension gives one rating per
annotation, the frozenset of chosen scale positions (possibly empty).

Modules:

* ``columns``: ``read_columns`` (a ``values_list`` queryset as numpy columns;
  the PostgreSQL binary fast path and its portable twin) and ``read_all``
  (independent reads, in parallel on PostgreSQL outside a transaction);
* ``scales``: ``category_scale``, a dimension's scale and every category id's
  position on it;
* ``arrays``: ``read_project``, ``label_arrays``, ``annotation_arrays`` and the
  records they return, ``locate`` (the numpy join by id).

PostgreSQL fast paths (``corpus.db.fast_path``): "ratings-binary-columns" (rows
packed in one binary string; the twin streams ``values_list``) and
"ratings-parallel-reads" (one connection per read, in threads; the twin reads
on this connection). tests/annotator/test_ratings_fast_paths.py checks each
twin reads the same arrays.
"""

from annotator.ratings.arrays import (
    AnnotationArrays,
    LabelArrays,
    annotation_arrays,
    label_arrays,
    locate,
    read_project,
)
from annotator.ratings.columns import Read, read_all, read_columns
from annotator.ratings.scales import CategoryScale, category_scale

__all__ = [
    "AnnotationArrays",
    "CategoryScale",
    "LabelArrays",
    "Read",
    "annotation_arrays",
    "category_scale",
    "label_arrays",
    "locate",
    "read_all",
    "read_columns",
    "read_project",
]
