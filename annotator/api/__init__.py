"""The REST API (DRF) under /api/v1/: one module per area.

URLs are wired in annotator/urls.py; permission classes in annotator/permissions.py.
"""
