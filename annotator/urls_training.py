"""Coder training's URLs (issue 16): reference items, practice, the test, coders."""

from __future__ import annotations

from django.urls import path

P = "projects/<int:project_id>/"

urlpatterns: list = []

# --- reference items (views/reference.py) ----------------------------------------
urlpatterns += []


# --- practice, the certification test, attempts, certifying (views/training.py) --
urlpatterns += []


# --- the reviewers' coders pages and API (views/coders.py, api/coders.py) --------
from annotator.api import coders as coders_api  # noqa: E402
from annotator.views import coders  # noqa: E402

urlpatterns += [
    path(P + "coders/", coders.project_coders, name="project-coders"),
    path(P + "coders/<int:user_id>/", coders.project_coder, name="project-coder"),
    path(
        "api/v1/" + P + "coders/",
        coders_api.CodersView.as_view(),
        name="api-project-coders",
    ),
]


# --- the training settings (views/training_settings.py) --------------------------
urlpatterns += []

__all__ = ["P", "path", "urlpatterns"]
