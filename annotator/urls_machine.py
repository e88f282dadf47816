"""URLs of the machine coder: its API (annotator/api/machine.py), its options page."""

from django.urls import path

from annotator.api import machine
from annotator.views import machine_options

MACHINE = "api/v1/projects/<int:project_id>/machine/"

urlpatterns: list = [
    path(MACHINE, machine.MachineView.as_view(), name="api-project-machine"),
    path(
        MACHINE + "predict/",
        machine.MachinePredictView.as_view(),
        name="api-project-machine-predict",
    ),
    path(
        "projects/<int:project_id>/design/machine/",
        machine_options.project_machine_options,
        name="project-machine-options",
    ),
]
