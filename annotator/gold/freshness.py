"""How fresh a project's gold is, as pages and the API say it.

The gold a request reads is the last finished refresh's: ``gold_status`` adds
when that was and whether a newer one is waiting or running (with its progress),
or why the last one failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from annotator.gold.refresh import gold_as_of
from annotator.models import Job, JobKind, Project, ShowsJob


@dataclass(frozen=True)
class GoldStatus(ShowsJob):
    as_of: datetime | None  # the newest gold run; None: never computed
    job: Job | None  # the refresh waiting or running, else the last one finished


def gold_status(project: Project) -> GoldStatus:
    """Two indexed queries: the newest run's time and the latest refresh job."""
    job = Job.objects.latest_of(project, JobKind.GOLD_REFRESH)
    return GoldStatus(gold_as_of(project), job)
