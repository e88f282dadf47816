"""URLs of the machine coder: its page, its options page and its API."""

from django.urls import path

from annotator.api import machine
from annotator.views import machine as pages
from annotator.views import machine_options

MACHINE = "api/v1/projects/<int:project_id>/machine/"
PAGE = "projects/<int:project_id>/machine/"

urlpatterns: list = [
    path(MACHINE, machine.MachineView.as_view(), name="api-project-machine"),
    path(
        MACHINE + "predict/",
        machine.MachinePredictView.as_view(),
        name="api-project-machine-predict",
    ),
    # The page (views/machine.py): reviewers, managers and staff; its buttons
    # POST (managers).
    path(PAGE, pages.project_machine, name="project-machine"),
    path(PAGE + "train/", pages.train, name="project-machine-train"),
    path(PAGE + "code-the-rest/", pages.code_the_rest, name="project-machine-predict"),
    path(
        "projects/<int:project_id>/design/machine/",
        machine_options.project_machine_options,
        name="project-machine-options",
    ),
]
