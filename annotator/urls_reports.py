"""URLs of the reliability report, its downloads and the sample-size helper."""

from django.urls import path

from annotator.views import reliability

urlpatterns: list = [
    path(
        "projects/<int:project_id>/agreement/report/",
        reliability.project_reliability,
        name="project-reliability",
    ),
]
