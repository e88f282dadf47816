"""Multi-model writes: project set-up, the claim queue, submits, skips.

Called alike from pages, the API, commands and tests. Keyword-only arguments; bad
input raises django.core.exceptions.ValidationError and writes nothing.

Modules: ``projects`` (create a project with its sample and queue; members),
``design`` (can a design be met; change k, the sample share, the lease after creation),
``queue`` (claims, leases, releases) with its SQL text in ``queue_sql``,
``submits`` (submit, revise; ``next_change`` numbers any write that changes a
project's annotations, for gold freshness), ``skips`` (skip and its undo),
``labels`` (the one label validator and the cache of codebooks in use) and ``text``
(the check of typed text: reasons, comments, notes). ``jobs`` (long work asked
for by a request and run by a worker: gold refreshes) and ``job_sweep`` (jobs
whose worker died) are imported as modules: they import ``annotator.gold``.
``codebook_saves`` (a codebook saved from the editor or an upload, through
``annotator.codebooks.import_codebook``) is imported as a module too.
"""

from annotator.services.design import change_design, design_problem, preview_design
from annotator.services.labels import (
    codebook_dimensions,
    codebook_groups,
    resolve_choice,
    resolve_labels,
)
from annotator.services.projects import create_project, remove_member, set_membership
from annotator.services.queue import claim_next_span, release_expired_claims
from annotator.services.skips import skip_span, unskip_span
from annotator.services.submits import next_change, submit_annotation

__all__ = [
    "change_design",
    "claim_next_span",
    "codebook_dimensions",
    "codebook_groups",
    "create_project",
    "design_problem",
    "next_change",
    "preview_design",
    "release_expired_claims",
    "remove_member",
    "resolve_choice",
    "resolve_labels",
    "set_membership",
    "skip_span",
    "submit_annotation",
    "unskip_span",
]
