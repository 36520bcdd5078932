"""The one body parser of the API: JSON, bounded in size, with values every database can store."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from api.errors import RequestTooLarge
from core import strict_json
from core.problems import Invalid, Problem

UNSTORABLE = "Must not contain NUL characters or unpaired surrogates."

# Views may lower this with a `max_body_bytes` attribute (integration documents: 256 KiB).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class JSONParser(BaseParser):
    """application/json, UTF-8, at most the view's `max_body_bytes`.

    Besides syntax, it refuses strings that no database column takes (NUL
    characters and lone surrogates), so that such input is a 422 naming the
    place rather than a database error.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = getattr(parser_context.get("view"), "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        request = parser_context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise RequestTooLarge(limit)
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(limit)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not UTF-8 text (byte {exc.start}).") from None
        try:
            data = strict_json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
        except ValueError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}.") from None
        except RecursionError:
            raise ParseError("The body is not valid JSON: nested too deeply.") from None
        errors: list[Problem] = []
        try:
            _check_strings(data, (), errors)
        except RecursionError:
            raise ParseError("The body is nested too deeply.") from None
        if errors:
            raise Invalid(errors[:20])
        return data


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_strings(value, loc: tuple, errors: list[Problem]) -> None:
    if isinstance(value, str):
        if not _storable(value):
            errors.append(Problem(loc, UNSTORABLE, "string_unicode"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, (*loc, index), errors)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _storable(key):
                errors.append(Problem(loc, f"Property names: {UNSTORABLE}", "string_unicode"))
            else:
                _check_strings(item, (*loc, key), errors)
