"""Coder training's URLs (issue 16): reference items, practice, the test, coders."""

from __future__ import annotations

from django.urls import path

from annotator.views import reference

P = "projects/<int:project_id>/"

urlpatterns: list = []

# --- reference items (views/reference.py) ----------------------------------------
urlpatterns += [
    path(P + "reference/", reference.reference_list, name="project-reference"),
    path(P + "reference/new/", reference.reference_new, name="project-reference-new"),
    path(
        P + "reference/upload/",
        reference.reference_upload,
        name="project-reference-upload",
    ),
    path(
        P + "reference/from-gold/",
        reference.reference_from_gold,
        name="project-reference-from-gold",
    ),
    path(
        P + "reference/<int:item_id>/",
        reference.reference_item,
        name="project-reference-item",
    ),
]


# --- practice, the certification test, attempts, certifying (views/training.py) --
urlpatterns += []


# --- the reviewers' coders pages and API (views/coders.py, api/coders.py) --------
urlpatterns += []


# --- the training settings (views/training_settings.py) --------------------------
urlpatterns += []

__all__ = ["P", "path", "urlpatterns"]
