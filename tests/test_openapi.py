"""The OpenAPI document is the API (issue 15 finding 9; docs/api.md, "The OpenAPI document")."""

from __future__ import annotations

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    if not ref:
        return ref_or_schema
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _api_routes():
    """Every /api/v1/ route of the URLconf, as an OpenAPI path template."""
    import re

    out = set()

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if route.startswith("api/v1/"):
                    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("^", "").replace("/?$", "")
                    out.add("/" + route.rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return out


def test_every_api_route_is_documented(schema):
    def norm(path: str) -> str:
        return path.replace("{id}", "{pk}").rstrip("/")

    documented = {norm(p) for p in schema["paths"]}
    missing = {r for r in _api_routes() if norm(r) not in documented}
    assert not missing, missing
    assert "/api/v1/tenders/{tender_id}/lots/{lot_id}/bids" in schema["paths"]
    upload = schema["paths"]["/api/v1/tenders/{tender_id}/lots/{lot_id}/bids"]["post"]
    assert "application/octet-stream" in upload["requestBody"]["content"]
    assert {"201", "400", "401", "403", "404", "409", "413", "415"} <= set(upload["responses"])


@pytest.mark.parametrize("path", ["/api/v1/draws/", "/api/v1/draws/warnings", "/api/v1/experts/me/assignments",
                                  "/api/v1/experts/pool"])
def test_paginated_lists_are_documented_as_pages(schema, path):
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = _resolve(schema, body)
    assert page["type"] == "object" and {"count", "next", "previous", "results"} <= set(page["properties"])
    params = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
    assert {"page", "page_size"} <= params


def test_nullable_timestamps_are_nullable(schema):
    draw = schema["components"]["schemas"]["ExpertDrawOutput"]["properties"]
    for name in ("drawn_at", "completed_at", "revealed_at", "seed_revealed_at"):
        assert draw[name].get("nullable") is True, name


def test_errors_are_documented_with_the_error_schema(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set(op["responses"])
            assert {"400", "401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method != "get":
                assert "409" in codes, (method, path)
            for code, response in op["responses"].items():
                if code >= "400":
                    content = response.get("content", {}).get("application/json", {})
                    assert content.get("schema", {}).get("$ref") == "#/components/schemas/Error", (method, path, code)
    token = schema["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in token


def test_binary_responses_have_their_real_media_types(schema):
    pdf = schema["paths"]["/api/v1/tenders/{id}/opening/record.pdf"]["get"]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]
    commands = schema["paths"]["/api/v1/tenders/{id}/opening/commands"]["post"]["requestBody"]["content"]
    assert list(commands) == ["application/json"]  # JSON only: a form body is 415, not a TypeError
    tenders = schema["paths"]["/api/v1/tenders"]["post"]["requestBody"]["content"]
    assert "application/json" in tenders
    statements = schema["paths"]["/api/v1/deposits/statements"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in statements
