"""The API's JSON parser: DRF's, answering 400 to a body nested past Python's limit.

json.loads raises RecursionError (not ValueError, which DRF turns into a 400) on
arrays or objects nested about a thousand deep; uncaught, that was a 500 on every
endpoint that reads a body. Set as the default parser (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the body is nested too deeply (arrays or objects "
                "inside each other about a thousand levels deep); send a flatter body."
            ) from None
