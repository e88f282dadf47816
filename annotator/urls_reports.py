"""URLs of the reliability report, its downloads and the sample-size helper."""

from django.urls import path

from annotator.views import (
    reliability,
    reliability_downloads,
    sample_size,
)

REPORT = "projects/<int:project_id>/agreement/report/"

urlpatterns: list = [
    path(REPORT, reliability.project_reliability, name="project-reliability"),
    # The report's files (annotator/views/reliability_downloads.py): reviewers,
    # managers and staff; 409 while the intervals are computed.
    path(
        REPORT + "report.html",
        reliability_downloads.report_html,
        name="project-reliability-html",
    ),
    path(
        REPORT + "report.pdf",
        reliability_downloads.report_pdf,
        name="project-reliability-pdf",
    ),
    path(
        REPORT + "tables.md",
        reliability_downloads.tables_md,
        name="project-reliability-md",
    ),
    path(
        REPORT + "tables.tex",
        reliability_downloads.tables_tex,
        name="project-reliability-tex",
    ),
    # The replication bundle (reliability_downloads.replication_zip): the same
    # readers; 409 while the intervals are computed.
    path(
        REPORT + "replication.zip",
        reliability_downloads.replication_zip,
        name="project-reliability-bundle",
    ),
    # The pre-registration helper: whoever may create projects.
    path("projects/sample-size/", sample_size.sample_size, name="project-sample-size"),
]
