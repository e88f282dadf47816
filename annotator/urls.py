"""Every URL: pages, the API under /api/v1/, its schema and docs; the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.api import agreement as agreement_api
from annotator.api import coding as coding_api
from annotator.api import export as export_api
from annotator.views import (
    adjudication,
    agreement,
    archives,
    coding,
    corpora,
    design,
    errors,
    imports,
    jobs,
    lifecycle,
    projects,
    tokens,
)

# Error answers: pages in the site's layout, fragments for htmx, JSON under /api/.
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error

# Pages. Each area's views live in annotator/views/<area>.py.
urlpatterns = [
    path("", projects.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Where the sign-in card of a 401 lands (views/errors.py signed_in).
    path("signed-in/", errors.signed_in, name="signed-in"),
    path("healthz", corpora.healthz, name="healthz"),
    path("corpora/", corpora.corpus_list, name="corpus-list"),
    path("corpora/import/", corpora.corpus_import, name="corpus-import"),
    path("corpora/imports/", corpora.import_panel, name="corpus-import-panel"),
    path("corpora/<int:corpus_id>/", corpora.corpus_detail, name="corpus-detail"),
    path(
        "documents/<int:document_id>/",
        corpora.document_detail,
        name="document-detail",
    ),
    path("admin/", admin.site.urls),
]

# Project pages for managers and reviewers (annotator/views/projects.py).
urlpatterns += [
    path("projects/new/", projects.project_create, name="project-create"),
    path("projects/<int:project_id>/", projects.project_detail, name="project-detail"),
    path(
        "projects/<int:project_id>/members/",
        projects.project_members,
        name="project-members",
    ),
    path(
        "projects/<int:project_id>/design/",
        design.project_design,
        name="project-design",
    ),
    path(
        "projects/<int:project_id>/lifecycle/",
        lifecycle.project_lifecycle,
        name="project-lifecycle",
    ),
    path(
        "projects/<int:project_id>/codings/import/",
        imports.codings_import,
        name="project-codings-import",
    ),
    path(
        "projects/<int:project_id>/clone/",
        lifecycle.project_clone,
        name="project-clone",
    ),
    path(
        "projects/<int:project_id>/design/preview/",
        design.project_design_preview,
        name="project-design-preview",
    ),
]

# The coder's coding screen (annotator/views/coding.py).
urlpatterns += [
    path("projects/<int:project_id>/code/", coding.code, name="project-code"),
    path(
        "projects/<int:project_id>/code/skip/",
        coding.skip,
        name="project-code-skip",
    ),
    path(
        "projects/<int:project_id>/code/recent/",
        coding.recent,
        name="project-code-recent",
    ),
    path(
        "projects/<int:project_id>/code/waiting/",
        coding.waiting,
        name="project-code-waiting",
    ),
    path(
        "projects/<int:project_id>/code/<int:assignment_id>/",
        coding.revise,
        name="project-code-revise",
    ),
    path(
        "projects/<int:project_id>/code/<int:assignment_id>/unskip/",
        coding.unskip,
        name="project-code-unskip",
    ),
]

# Adjudication: reviewers settle disagreements (annotator/views/adjudication.py).
urlpatterns += [
    path(
        "projects/<int:project_id>/adjudicate/",
        adjudication.queue,
        name="project-adjudicate",
    ),
    path(
        "projects/<int:project_id>/adjudicate/decided/",
        adjudication.decided,
        name="project-adjudicate-decided",
    ),
    path(
        "projects/<int:project_id>/adjudicate/<int:span_id>/",
        adjudication.reopen,
        name="project-adjudicate-span",
    ),
]

# Long work run by the workers (annotator/views/jobs.py): a project's jobs and one
# job's progress for its managers; the gold freshness panel for whoever reads gold.
urlpatterns += [
    path("projects/<int:project_id>/jobs/", jobs.project_jobs, name="project-jobs"),
    path(
        "projects/<int:project_id>/jobs/refresh-gold/",
        jobs.refresh_gold_now,
        name="project-refresh-gold",
    ),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job-detail"),
    # Archives (annotator/views/archives.py): queued like the rest, downloaded
    # from what the job stored; a restore for whoever may create projects.
    path(
        "projects/<int:project_id>/archive/",
        archives.queue_archive,
        name="project-archive",
    ),
    path(
        "jobs/<int:job_id>/archive.jsonl.gz",
        archives.archive_download,
        name="job-archive-download",
    ),
    path("projects/restore/", archives.project_restore, name="project-restore"),
    path(
        "projects/<int:project_id>/gold/status/",
        jobs.gold_freshness,
        name="project-gold-status",
    ),
]

# Agreement: the reviewers' dashboard (annotator/views/agreement.py) and its API
# (annotator/api/agreement.py), both from annotator/agreement_report/.
urlpatterns += [
    path(
        "projects/<int:project_id>/agreement/",
        agreement.project_agreement,
        name="project-agreement",
    ),
    path(
        "projects/<int:project_id>/agreement/intervals/",
        agreement.intervals_status,
        name="project-agreement-intervals",
    ),
    path(
        "api/v1/projects/<int:project_id>/agreement/",
        agreement_api.AgreementView.as_view(),
        name="api-project-agreement",
    ),
]

# Exports: gold labels and raw annotations, in pages and as streamed files, for
# reviewers and managers (annotator/api/export.py); the API token page.
urlpatterns += [
    path("account/token/", tokens.api_token, name="api-token"),
    path(
        "api/v1/projects/<int:project_id>/gold/",
        export_api.GoldView.as_view(),
        name="api-gold",
    ),
    path(
        "api/v1/projects/<int:project_id>/gold.csv",
        export_api.GoldCSVView.as_view(),
        name="api-gold-csv",
    ),
    path(
        "api/v1/projects/<int:project_id>/gold.jsonl",
        export_api.GoldJSONLView.as_view(),
        name="api-gold-jsonl",
    ),
    path(
        "api/v1/projects/<int:project_id>/annotations/",
        export_api.AnnotationsView.as_view(),
        name="api-annotations",
    ),
    path(
        "api/v1/projects/<int:project_id>/annotations.csv",
        export_api.AnnotationsCSVView.as_view(),
        name="api-annotations-csv",
    ),
    path(
        "api/v1/projects/<int:project_id>/annotations.jsonl",
        export_api.AnnotationsJSONLView.as_view(),
        name="api-annotations-jsonl",
    ),
]

# The coder's API (annotator/api/coding.py), the schema and its docs page.
urlpatterns += [
    path(
        "api/v1/projects/",
        coding_api.ProjectViewSet.as_view({"get": "list"}),
        name="api-project-list",
    ),
    path(
        "api/v1/projects/<int:pk>/",
        coding_api.ProjectViewSet.as_view({"get": "retrieve"}),
        name="api-project-detail",
    ),
    path(
        "api/v1/projects/<int:project_id>/claim/",
        coding_api.ClaimView.as_view(),
        name="api-claim",
    ),
    path(
        "api/v1/projects/<int:project_id>/my-annotations/",
        coding_api.MyAnnotationsView.as_view(),
        name="api-my-annotations",
    ),
    path(
        "api/v1/assignments/<int:assignment_id>/submit/",
        coding_api.SubmitView.as_view(),
        name="api-submit",
    ),
    path(
        "api/v1/assignments/<int:assignment_id>/skip/",
        coding_api.SkipView.as_view(),
        name="api-skip",
    ),
    path(
        "api/v1/assignments/<int:assignment_id>/unskip/",
        coding_api.UnskipView.as_view(),
        name="api-unskip",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # Split: the page loads its set-up script from a URL, as the CSP requires.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="annotator/swagger_ui.html"
        ),
        name="api-docs",
    ),
]
