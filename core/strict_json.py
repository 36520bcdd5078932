"""JSON as RFC 8259 and PostgreSQL's jsonb read it: no NaN, Infinity or -Infinity, no number out of float range.

Python's json module accepts those extensions (and writes them back), so a value parsed with plain json.loads can
be one that jsonb refuses (a DataError, a 500) and no other JSON parser reads. Every place that parses JSON typed or
sent by a user goes through `loads` here (the API's body parser, the forms' JSON fields, the Playground's endpoints),
and `first_non_finite` finds such a number in a value that did not come from text (a Python caller, a form).
"""

import json
import math
from typing import Any


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def finite_float(text: str) -> float:
    """The float of a JSON number's text; ValueError when it is out of range (1e999 is inf)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def loads(text: str | bytes) -> Any:
    """json.loads without Python's extensions. Raises ValueError (json.JSONDecodeError for syntax, with msg, lineno
    and colno; a plain ValueError naming NaN/Infinity or the out-of-range number) and RecursionError when nested too
    deeply."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=finite_float)


def first_non_finite(value: Any, loc: tuple = ()) -> tuple | None:
    """The location (keys and list indexes from `loc`) of the first float in `value` that is NaN or infinite, or
    None when there is none. Walks dicts, lists and tuples; other values are leaves."""
    stack = [(value, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return where
        elif isinstance(item, dict):
            stack.extend((child, (*where, key)) for key, child in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, (*where, index)) for index, child in reversed(list(enumerate(item))))
    return None


def error_message(exc: Exception) -> str:
    """The message for text that `loads` refused (`exc`: what it raised), as the API's body parser words it after
    its "The body is": "Not valid JSON: Expecting value at line 1, column 2." (syntax: the decoder's message and
    position), "Not valid JSON: NaN is not valid JSON." (a refused number), "Not valid JSON: nested too deeply."."""
    if isinstance(exc, RecursionError):
        return "Not valid JSON: nested too deeply."
    if isinstance(exc, json.JSONDecodeError):
        return f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    return f"Not valid JSON: {exc}."
