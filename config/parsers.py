"""Request parsers for the API: DRF's, plus the checks of config/inputs.py.

They are the API's defaults (`REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`: JSON, url-encoded
form, multipart); a view whose input is structured JSON (objects in lists, e.g. the opening
room's commands) takes `parser_classes = [StrictJSONParser]`, so that a form body is 415
`unsupported_media_type` instead of a half-parsed one. A body the parser cannot
turn into data the database can hold is refused with 400 `parse_error` (malformed,
nested deeper than `MAX_JSON_DEPTH`) or 400 `invalid_text` (NUL, lone surrogate).
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

from config.inputs import MAX_JSON_DEPTH, data_problem, text_problem


class InvalidText(exceptions.ParseError):
    default_code = "invalid_text"
    default_detail = "The request contains text the platform cannot store (NUL or invalid Unicode)."


def _check(data: Any) -> Any:
    problem = data_problem(data)
    if problem is None:
        return data
    if problem.startswith("JSON nested"):
        raise exceptions.ParseError(problem)
    raise InvalidText(problem)


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels is not accepted.") from None
        return _check(data)


def _check_querydict(data) -> None:
    for key, values in data.lists():
        for value in [key, *(v for v in values if isinstance(v, str))]:
            problem = text_problem(value)
            if problem:
                raise InvalidText(f"{key!r}: {problem}" if value is not key else problem)


class StrictFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_querydict(data)
        return data


class StrictMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _check_querydict(result.data)
        for name, upload in result.files.items():
            problem = text_problem(name) or text_problem(getattr(upload, "name", "") or "")
            if problem:
                raise InvalidText(f"file name: {problem}")
        return result
