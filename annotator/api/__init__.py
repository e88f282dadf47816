"""The REST API (DRF) under /api/v1/: one module per area.

URLs are wired in annotator/urls.py; who may call what is decided in
annotator/access.py.
"""
