"""URLs of the machine coder: its page (views/machine.py) and API (api/machine.py)."""

from django.urls import path

from annotator.api import machine
from annotator.views import machine as pages

MACHINE = "api/v1/projects/<int:project_id>/machine/"
PAGE = "projects/<int:project_id>/machine/"

urlpatterns: list = [
    path(MACHINE, machine.MachineView.as_view(), name="api-project-machine"),
    path(
        MACHINE + "predict/",
        machine.MachinePredictView.as_view(),
        name="api-project-machine-predict",
    ),
    # The page: reviewers, managers and staff; its buttons POST (managers).
    path(PAGE, pages.project_machine, name="project-machine"),
    path(PAGE + "train/", pages.train, name="project-machine-train"),
    path(PAGE + "code-the-rest/", pages.code_the_rest, name="project-machine-predict"),
]
