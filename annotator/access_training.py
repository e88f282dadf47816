"""Who may see a training attempt: its own coder, and the project's readers."""

from __future__ import annotations

from django.http import Http404

from annotator.access import Can, User, allows, project_for
from annotator.models import Project, TrainingAttempt


def attempt_for(
    user: User, project_id: int, attempt_id: int
) -> tuple[Project, TrainingAttempt]:
    """The project and the attempt: 404 to non-members and to any other coder
    (blind coding: a coder cannot tell another's attempt exists); its own coder,
    the project's reviewers and managers, and staff see it."""
    project = project_for(user, project_id)
    attempt = (
        TrainingAttempt.objects.filter(pk=attempt_id, project=project)
        .select_related("coder", "decided_by")
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    if attempt.coder_id == user.pk or allows(user, project.user_role, Can.REVIEW):
        return project, attempt
    raise Http404("No such attempt.")
