"""URLs of the machine coder's API (annotator/api/machine.py)."""

from django.urls import path

from annotator.api import machine

MACHINE = "api/v1/projects/<int:project_id>/machine/"

urlpatterns: list = [
    path(MACHINE, machine.MachineView.as_view(), name="api-project-machine"),
    path(
        MACHINE + "predict/",
        machine.MachinePredictView.as_view(),
        name="api-project-machine-predict",
    ),
]
