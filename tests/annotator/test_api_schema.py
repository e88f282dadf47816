"""The OpenAPI schema validates (openapi-spec-validator) and lists every API URL."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate


def api_routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def test_schema_is_valid_openapi_and_has_every_api_v1_route():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate(schema)
    routes = set(api_routes())
    assert "/api/v1/projects/{project_id}/gold.csv" in routes  # the walk works

    # Parameter names aside (spectacular calls a `pk` `id`), every route is there.
    def shape(path):
        return re.sub(r"{\w+}", "{}", path)

    missing = {r for r in routes if shape(r) not in {shape(p) for p in schema["paths"]}}
    assert not missing, f"not in the schema: {sorted(missing)}"
