"""URLs of the reliability report, its downloads and the sample-size helper."""

from django.urls import path

from annotator.views import reliability_bundle, sample_size

urlpatterns: list = [
    path(
        "projects/<int:project_id>/agreement/report/replication.zip",
        reliability_bundle.reliability_bundle,
        name="project-reliability-bundle",
    ),
    path(
        "projects/sample-size/",
        sample_size.sample_size,
        name="project-sample-size",
    ),
]
