"""What the suggestion tests share: a machine coder's codes of a project's spans,
the switch, and c1's coding screen read and posted as a browser does."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from annotator.models import Assignment, Category, MachineCoder, MachineLabel, WorkItem

HX = {"HX-Request": "true"}
MARKER = "Suggested by the machine coder"
# What the machine says of every span in these tests.
MACHINE = {"topic": ["trade"], "stance": ["neutral"], "tags": ["quote"]}
P = {"topic": 0.87, "stance": 0.6, "tags": 0.45}


def machine_codes(project, codes=MACHINE, spans=None) -> MachineCoder:
    """A ready machine coder of the project's codebook and its codes of every
    span of the project (in the sample or not), as "code the rest" stores them."""
    coder = MachineCoder.objects.create(
        project=project, codebook=project.codebook, model=b""
    )
    categories = {
        (c.dimension.key, c.key): c
        for c in Category.objects.filter(
            dimension__codebook=project.codebook
        ).select_related("dimension")
    }
    dimensions = {d.key: d for d in project.codebook.dimensions.all()}
    if spans is None:
        spans = WorkItem.objects.filter(project=project).values_list(
            "span_id", flat=True
        )
    rows = []
    for span in spans:
        for key, keys in codes.items():
            multiple = dimensions[key].multiple
            rows.append(
                MachineLabel(
                    project=project,
                    span_id=span,
                    dimension=dimensions[key],
                    category=None if multiple else categories[key, keys[0]],
                    categories=list(keys) if multiple else [],
                    probability=P[key],
                    machine_coder=coder,
                    created_at=timezone.now(),
                )  # fmt: skip
            )
    MachineLabel.objects.bulk_create(rows)
    return coder


def suggesting(project, on=True):
    project.machine_suggestions = on
    project.save(update_fields=["machine_suggestions"])
    return project


def code_url(project) -> str:
    return reverse("project-code", args=[project.pk])


def user(name: str):
    return get_user_model().objects.get(username=name)


def current(project, coder) -> Assignment:
    """The coder's live claim (in the study, or in its pool for a check)."""
    pool = getattr(project, "pool", None)
    return Assignment.objects.get(
        project_id__in=[project.pk, pool.pk if pool else project.pk],
        coder=coder,
        status=Assignment.Status.CLAIMED,
    )


def checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs named `name`."""
    inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    return [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in inputs
        if " checked" in tag
    ]


def signed(html: str) -> str:
    found = re.search(r'name="suggestion" value="([^"]*)"', html)
    return found.group(1) if found else ""


def post(client, project, assignment, labels, suggestion="", headers=None):
    data = {"assignment": assignment.pk, "suggestion": suggestion, **labels}
    return client.post(code_url(project), data, headers=headers or {})


def as_c1(client):
    """The client signed in as c1 (after the project made c1: the factory sets
    the password again, which ends earlier sessions)."""
    client.force_login(user("c1"))
    return client
