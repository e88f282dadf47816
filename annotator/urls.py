from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from annotator.views import corpora

# Pages. Each area's views live in annotator/views/<area>.py.
urlpatterns = [
    path("", corpora.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", corpora.healthz, name="healthz"),
    path("corpora/", corpora.corpus_list, name="corpus-list"),
    path("corpora/import/", corpora.corpus_import, name="corpus-import"),
    path("corpora/<int:corpus_id>/", corpora.corpus_detail, name="corpus-detail"),
    path(
        "documents/<int:document_id>/",
        corpora.document_detail,
        name="document-detail",
    ),
    path("admin/", admin.site.urls),
]

# The REST API under /api/v1/. Each area's views live in annotator/api/<area>.py.
urlpatterns += []
