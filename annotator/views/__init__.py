"""HTML pages (htmx-enhanced; every page works without JavaScript).

One module per area: `corpora` (managers' corpus pages, health check). Shared
helpers live in `base`. URLs are wired in annotator/urls.py.
"""
