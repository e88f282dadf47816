"""Coder training's URLs (issue 16): reference items, practice, the test, coders."""

from __future__ import annotations

from django.urls import path

from annotator.views import reference
from annotator.views import training as training_views

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
urlpatterns += [
    path(f"{P}training/", training_views.training, name="project-training"),
    path(f"{P}training/practice/", training_views.practice, name="project-practice"),
    path(
        f"{P}training/test/",
        training_views.certification_test,
        name="project-test",
    ),
    path(
        f"{P}training/attempts/<int:attempt_id>/",
        training_views.attempt,
        name="project-attempt",
    ),
    path(
        f"{P}coders/<int:user_id>/certify/",
        training_views.certify,
        name="project-coder-certify",
    ),
]


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
from annotator.views import training_settings  # noqa: E402

urlpatterns += [
    path(
        P + "training/settings/",
        training_settings.project_training_settings,
        name="project-training-settings",
    ),
]

__all__ = ["P", "path", "urlpatterns"]
