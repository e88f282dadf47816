from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from annotator import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("corpora/", views.corpus_list, name="corpus-list"),
    path("corpora/import/", views.corpus_import, name="corpus-import"),
    path("corpora/<int:corpus_id>/", views.corpus_detail, name="corpus-detail"),
    path("documents/<int:document_id>/", views.document_detail, name="document-detail"),
    path("admin/", admin.site.urls),
]
