"""OpenAPI conventions (drf-spectacular): every operation documents the errors it can return.

`ApiAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to each operation, unless the
view documents them itself, the error responses that the API's general mechanisms can give
(docs/api.md, "Errors"), all with the `Error` schema `{"error": {"code", "message", "fields"}}`:

- 400 everywhere (malformed or invalid input, text the database cannot store),
- 401 and 403 everywhere (a bad token is refused even on public endpoints; permissions),
- 404 where the path or query names an object,
- 409 for POST/PUT/PATCH/DELETE (the object's state does not allow the action),
- 413 and 415 where the operation takes a body,
- 429 where the view has a throttle.

An error response a view documents without a body (`OpenApiResponse(description=...)`) gets
the `Error` schema too. `postprocess_schema` (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])
adds the operations of plain Django views that drf-spectacular cannot see (the streamed bid
upload).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (code `invalid`, `parse_error`, `invalid_text`, or a rule's own code)",
    "401": "Not authenticated, or the token is invalid",
    "403": "Not permitted for this user",
    "404": "Not found, or not visible to this user",
    "409": "Not possible in the object's current state",
    "413": "The request body is larger than this endpoint accepts (`too_large`)",
    "415": "Unsupported Content-Type (`unsupported_media_type`)",
    "429": "Too many requests (`throttled`); see Retry-After",
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code (docs/api.md)")
    message = serializers.CharField(help_text="Human-readable; names the rule and its source where there is one")
    fields = serializers.DictField(child=serializers.JSONField(), help_text="Per-field messages (may be empty)")


class Error(serializers.Serializer):
    error = ErrorDetail()


def error_codes_for(*, method: str, has_path_params: bool, has_query_params: bool, has_body: bool,
                    throttled: bool) -> list[str]:
    """The status codes documented for an operation (see the module docstring)."""
    codes = ["400", "401", "403"]
    if has_path_params or has_query_params:
        codes.append("404")
    if method in UNSAFE:
        codes.append("409")
    if has_body:
        codes += ["413", "415"]
    if throttled:
        codes.append("429")
    return codes


class ApiAutoSchema(AutoSchema):
    def _error_response(self, code: str) -> dict[str, Any]:
        response = self._get_response_for_code(Error, code, direction="response")
        response["description"] = ERROR_DESCRIPTIONS.get(code, "Error")
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        path_params = "{" in self.path
        query_params = any(p.get("in") == "query" for p in self._get_parameters())
        has_body = self.method in UNSAFE and bool(self.view.get_parsers())
        throttled = bool(self.view.get_throttles())
        for code in error_codes_for(method=self.method, has_path_params=path_params, has_query_params=query_params,
                                    has_body=has_body, throttled=throttled):
            responses.setdefault(code, self._error_response(code))
        for code, response in list(responses.items()):
            if code >= "400" and not response.get("content"):
                described = response.get("description")
                responses[code] = self._error_response(code)
                if described:
                    responses[code]["description"] = described
        return responses


def _error_ref() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"description": ERROR_DESCRIPTIONS[code], "content": _error_ref()} for code in codes}


def postprocess_schema(result: dict[str, Any], generator, request, public: bool) -> dict[str, Any]:
    """Add the operations of plain Django views (docs/api.md, "The OpenAPI document")."""
    paths = result.setdefault("paths", {})
    token = paths.get("/api/v1/auth/token", {}).get("post")
    if token is not None:  # django-axes' lock-out (login_locked) and the login throttle
        token["responses"].setdefault("429", _errors("429")["429"])
    params = [
        {"in": "path", "name": "tender_id", "required": True, "schema": {"type": "integer"}},
        {"in": "path", "name": "lot_id", "required": True, "schema": {"type": "integer"}},
    ]
    bid = {"$ref": "#/components/schemas/BidOutput"}
    paths["/api/v1/tenders/{tender_id}/lots/{lot_id}/bids"] = {
        "get": {
            "operationId": "tenders_lots_bids_list",
            "summary": "Your organisation's bids for this lot (newest first)",
            "tags": ["sealed bids"],
            "parameters": params,
            "security": [{"tokenAuth": []}, {"cookieAuth": []}],
            "responses": {
                "200": {"description": "", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["results"],
                    "properties": {"results": {"type": "array", "items": bid}}}}}},
                **_errors("400", "401", "403", "404"),
            },
        },
        "post": {
            "operationId": "tenders_lots_bids_create",
            "summary": "Upload a sealed envelope (SBE1, docs/sbe1.md) as the raw body",
            "description": "Streamed: the body is read in chunks, never buffered. Token-authenticated requests "
                           "need no CSRF token; session uploads send X-CSRFToken.",
            "tags": ["sealed bids"],
            "parameters": [*params, {
                "in": "header", "name": "X-Envelope-Signature", "required": False, "schema": {"type": "string"},
                "description": "base64 r||s ECDSA P-256 signature over the envelope (docs/sbe1.md)"}],
            "requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "security": [{"tokenAuth": []}, {"cookieAuth": []}],
            "responses": {
                "201": {"description": "The bid and its signed receipt",
                        "content": {"application/json": {"schema": bid}}},
                **_errors("400", "401", "403", "404", "409", "413", "415"),
            },
        },
    }
    return result
