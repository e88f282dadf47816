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
urlpatterns += []


# --- the training settings (views/training_settings.py) --------------------------
from annotator.views import training_settings  # noqa: E402

urlpatterns += [
    path(
        P + "training/settings/",
        training_settings.project_training_settings,
        name="project-training-settings",
    ),
]

__all__ = ["P", "path", "urlpatterns"]
