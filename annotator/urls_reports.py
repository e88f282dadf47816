"""URLs of the reliability report, its downloads and the sample-size helper."""

from django.urls import path  # noqa: F401  (the report's views add their paths here)

urlpatterns: list = []
