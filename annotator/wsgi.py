"""The WSGI entry point gunicorn serves (with a warm-up of the views)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    """Import every view and build the URL resolver now, not in a first request.

    gunicorn loads the app when a worker boots, before it accepts a request, so a
    worker's first page costs what the next ones do. No database access.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - importing the URLconf is the point
    get_resolver()._populate()


_warm_up()
