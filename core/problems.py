"""Validation problems: what is wrong with some input, and where.

Every validator (the integration document, run messages and parameters, datasets, metrics, evaluations, saved
prompts) reports a list of Problems and raises Invalid with all of them; the API answers them as 422
`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` (api/exception_handlers.py) and the pages show each next to
its field.
"""

from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

UNSTORABLE_MESSAGE = "Must not contain NUL characters or unpaired surrogates."


@dataclass(frozen=True)
class Problem:
    """One problem: `loc` is the path to the value (keys and list indexes, e.g. ("model_properties", 1, "based_on")),
    `message` a sentence saying what is wrong and what to do, `type` a short machine-readable kind."""

    loc: tuple[str | int, ...]
    message: str
    type: str = "value_error"

    @property
    def path(self) -> str:
        """`loc` as people write it: model_properties[1].based_on, or (document) for the whole input."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text or "(document)"

    def as_dict(self) -> dict:
        return {"path": self.path, "loc": list(self.loc), "message": self.message, "type": self.type}


class Invalid(Exception):
    """Raised with every Problem found (never only the first)."""

    def __init__(self, errors: list[Problem]):
        super().__init__(f"{len(errors)} problem(s) in the input")
        self.errors = errors


def _unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text)


def unstorable_strings(value: Any, loc: tuple) -> list[Problem]:
    """Each key or string holding NUL characters or lone surrogates (no database column stores them), by path."""
    errors, pending = [], [(value, loc)]
    while pending:  # iterative: documents may nest as deep as the JSON parser allows
        item, where = pending.pop()
        if isinstance(item, str) and _unstorable(item):
            errors.append(Problem(where, UNSTORABLE_MESSAGE, "string_unicode"))
        elif isinstance(item, dict):
            if any(isinstance(key, str) and _unstorable(key) for key in item):
                errors.append(Problem(where, f"Property names: {UNSTORABLE_MESSAGE}", "string_unicode"))
            pending.extend((child, (*where, key)) for key, child in reversed(item.items()) if not _unstorable(str(key)))
        elif isinstance(item, list):
            pending.extend((child, (*where, index)) for index, child in reversed(list(enumerate(item))))
    return errors


# The one JSON shape of a validation error, for the API and the pages' JSON endpoints alike:
# {"detail": [{"loc": [where, ...path], "msg": "...", "type": "..."}]}.


def problem(loc: list, msg: str, type_: str) -> dict:
    """One problem as JSON: `loc` is where (`body`, `query` or `path`, then the path inside it), `msg` a sentence."""
    return {"loc": loc, "msg": msg, "type": type_}


def problems_from_errors(errors: list[Problem], *, where: str = "body") -> list[dict]:
    """Problems as JSON, each loc starting with `where`."""
    return [problem([where, *error.loc], error.message, error.type) for error in errors]


def problem_response(problems: list[dict], *, status: int = 422) -> JsonResponse:
    """A page endpoint's answer to an invalid request: `{"detail": problems}` with `status` (422 unless told)."""
    return JsonResponse({"detail": problems}, status=status)
