"""Every URL: pages, the API under /api/v1/, its schema and docs; the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.api import agreement as agreement_api
from annotator.api import coding as coding_api
from annotator.api import export as export_api
from annotator.views import (
    adjudication,
    agreement,
    archives,
    codebook_versions,
    codebooks,
    coding,
    coding_recent,
    corpora,
    design,
    downloads,
    errors,
    imports,
    invitations,
    jobs,
    lifecycle,
    people,
    preferences,
    projects,
    reading,
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
    path("login/", people.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Where the sign-in card of a 401 lands (views/errors.py signed_in).
    path("signed-in/", errors.signed_in, name="signed-in"),
    path("healthz", corpora.healthz, name="healthz"),
    # Browsers ask for /favicon.ico where a page does not link its icon (a file
    # download, a JSON answer): the SVG, not a 404 in every log.
    path(
        "favicon.ico",
        # lazy: the static files' manifest is read on the first request, not at import
        RedirectView.as_view(
            url=lazy(static, str)("annotator/favicon.svg"), permanent=True
        ),
        name="favicon",
    ),
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
        "projects/<int:project_id>/downloads/",
        downloads.project_downloads,
        name="project-downloads",
    ),
    path(
        "projects/<int:project_id>/downloads/agreement.csv",
        downloads.agreement_csv,
        name="project-agreement-csv",
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
    path(
        "projects/<int:project_id>/design/active-learning/",
        design.project_active_learning,
        name="project-active-learning",
    ),
    path(
        "projects/<int:project_id>/codebook/",
        codebook_versions.project_codebook,
        name="project-codebook",
    ),
    path(
        "projects/<int:project_id>/codebook/preview/",
        codebook_versions.project_codebook_preview,
        name="project-codebook-preview",
    ),
    path(
        "codebooks/<slug:family>/changes/<int:old>/<int:new>/",
        codebook_versions.codebook_changes_page,
        name="codebook-changes",
    ),
]

# People (annotator/views/people.py, invitations.py): the first manager, invitations,
# deactivation; password reset and change are Django's views with our templates
# (named apart from the admin's registration/ templates, which would win), the
# reset page under a rate limit (people.PasswordResetView).
PASSWORD_VIEWS = (
    ("password-reset", "password/reset/", people.PasswordResetView, {
        "template_name": "registration/reset_password.html",
        "email_template_name": "registration/reset_password_email.txt",
        "subject_template_name": "registration/reset_password_subject.txt",
        "success_url": reverse_lazy("password-reset-done")}),
    ("password-reset-done", "password/reset/sent/", auth_views.PasswordResetDoneView,
     {"template_name": "registration/reset_password_sent.html"}),
    ("password-reset-confirm", "password/reset/<uidb64>/<token>/",
     auth_views.PasswordResetConfirmView, {
        "template_name": "registration/reset_password_confirm.html",
        "success_url": reverse_lazy("password-reset-complete")}),
    ("password-reset-complete", "password/reset/done/",
     auth_views.PasswordResetCompleteView,
     {"template_name": "registration/reset_password_done.html"}),
    ("password-change", "password/change/", auth_views.PasswordChangeView, {
        "template_name": "registration/change_password.html",
        "success_url": reverse_lazy("password-change-done")}),
    ("password-change-done", "password/change/done/",
     auth_views.PasswordChangeDoneView,
     {"template_name": "registration/change_password_done.html"}),
)  # fmt: skip
urlpatterns += [
    path(route, view.as_view(**options), name=name)
    for name, route, view, options in PASSWORD_VIEWS
]
urlpatterns += [
    path("welcome/", people.first_run, name="first-run"),
    path("invitations/<str:token>/", invitations.accept, name="invitation"),
    path(
        "projects/<int:project_id>/invitations/",
        invitations.project_invitations,
        name="project-invitations",
    ),
    path(
        "projects/<int:project_id>/invitations/<int:invitation_id>/resend/",
        invitations.invitation_resend,
        name="project-invitation-resend",
    ),
    path(
        "projects/<int:project_id>/invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke,
        name="project-invitation-revoke",
    ),
    path(
        "projects/<int:project_id>/members/<int:member_id>/deactivate/",
        people.deactivate,
        name="project-member-deactivate",
    ),
    path(
        "projects/<int:project_id>/members/<int:member_id>/reactivate/",
        people.reactivate,
        name="project-member-reactivate",
    ),
]

# Codebooks for managers: list, a version, editor, upload, downloads
# (annotator/views/codebooks.py).
urlpatterns += [
    path("codebooks/", codebooks.codebook_list, name="codebook-list"),
    path("codebooks/new/", codebooks.codebook_create, name="codebook-create"),
    path("codebooks/upload/", codebooks.codebook_upload, name="codebook-upload"),
    path(
        "codebooks/<int:codebook_id>/",
        codebooks.codebook_detail,
        name="codebook-detail",
    ),
    path(
        "codebooks/<int:codebook_id>/edit/",
        codebooks.codebook_edit,
        name="codebook-edit",
    ),
    path(
        "codebooks/<int:codebook_id>/codebook.yaml",
        codebooks.codebook_yaml,
        name="codebook-yaml",
    ),
    path(
        "codebooks/<int:codebook_id>/codebook.json",
        codebooks.codebook_json,
        name="codebook-json",
    ),
]

# The coder's coding screen (annotator/views/coding.py, coding_recent.py).
urlpatterns += [
    path("projects/<int:project_id>/code/", coding.code, name="project-code"),
    path(
        "projects/<int:project_id>/code/skip/",
        coding.skip,
        name="project-code-skip",
    ),
    path(
        "projects/<int:project_id>/code/recent/",
        coding_recent.recent,
        name="project-code-recent",
    ),
    path(
        "projects/<int:project_id>/code/waiting/",
        coding_recent.waiting,
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
    # The whole document of a span, read-only (annotator/views/reading.py).
    path(
        "projects/<int:project_id>/documents/<int:document_id>/",
        reading.project_document,
        name="project-document",
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
# reviewers and managers (annotator/api/export.py); the API token and preferences
# pages.
urlpatterns += [
    path("account/token/", tokens.api_token, name="api-token"),
    path("account/preferences/", preferences.preferences, name="preferences"),
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
    path("", include("annotator.urls_training")),
    path("", include("annotator.urls_reports")),
    path("", include("annotator.urls_machine")),
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
