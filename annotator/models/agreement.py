"""The agreement report's bootstrap intervals, as the last background job left them.

Large projects get their intervals from a job (``annotator.tasks``), not the page
request: this is its result, one row per project, replaced whole when a newer
job finishes (one transaction), so a page reads either the previous complete
result or the new one, never a half-written one.
"""

from __future__ import annotations

from django.db import models

from annotator.models.codebooks import Codebook
from annotator.models.projects import Project


class AgreementIntervals(models.Model):
    """The intervals of every dimension at one data version and parameters."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    # The data they were computed from: the codebook version and the project's
    # change number (ChangeCounter.n) read before the ratings. The page compares
    # both with the project's now to say whether they are current.
    codebook = models.ForeignKey(Codebook, on_delete=models.CASCADE, related_name="+")
    watermark = models.BigIntegerField(null=True, blank=True)
    seed = models.BigIntegerField()
    n_resamples = models.PositiveIntegerField()
    # {dimension key: {"level", "alpha": {...}, "kappa": {...}}}: see
    # annotator.agreement_report.intervals for the form.
    dimensions = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"agreement intervals of project {self.project_id} ({self.computed_at})"
