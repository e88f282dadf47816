"""The print HTML of the reliability report as a PDF, through WeasyPrint (no network).

WeasyPrint needs the Pango library (a system package). Without it ``render``
raises ``PangoMissing`` with the apt line, and the PDF URL answers 503 while
the other formats still work. Every URL the document names is refused, so a
rendering never reaches the network or the disk (no SSRF); the stylesheet is
inlined in the HTML, and any more CSS is passed as a string.
"""

from __future__ import annotations

import ctypes.util
import logging

PANGO_PACKAGES = (
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
)
PANGO_APT = f"apt-get install {PANGO_PACKAGES}"

# WeasyPrint logs each rendering step at INFO: noise in a web server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class PangoMissing(RuntimeError):
    """WeasyPrint cannot load Pango: the PDF cannot be made on this machine."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            f"PDF needs the Pango library: {PANGO_APT}"
            + (f" ({detail})" if detail else "")
        )


def pango_available() -> bool:
    """Whether the system has the Pango library WeasyPrint loads."""
    return ctypes.util.find_library("pangoft2-1.0") is not None


def check_pango() -> None:
    """Raise ``PangoMissing`` now, before any work a PDF would need."""
    if not pango_available():
        raise PangoMissing()


def _weasyprint():
    check_pango()
    try:
        import weasyprint
    except OSError as error:  # cffi could not open a library it needs
        raise PangoMissing(str(error)) from error
    return weasyprint


def render(html: str, css: str = "") -> bytes:
    """The PDF of ``html`` (with ``css`` besides its own inline styles)."""
    weasyprint = _weasyprint()

    class RefuseEveryUrl(weasyprint.urls.URLFetcher):
        """No fetch at all: the report is self-contained by construction."""

        def fetch(self, url, headers=None):
            raise ValueError(f"the report fetches no URL ({url[:80]})")

    fetcher = RefuseEveryUrl()
    stylesheets = [weasyprint.CSS(string=css, url_fetcher=fetcher)] if css else []
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets)
