"""Pieces the evaluation services share: names, the cancelled marker, the in-use error."""

from typing import Any

from core.problems import Invalid, Problem

MAX_NAME = 200
# error_type of a run failed by a cancel before it started.
CANCELLED = "cancelled"


class InUse(Exception):
    """An object that others still refer to (a dataset with evaluations)."""


def name_clean(raw: Any, *, default: str | None = None, loc: tuple = ("name",)) -> str:
    """The stripped name, or `default` (cut to MAX_NAME) when empty; Invalid at `loc` otherwise."""
    name = raw.strip() if isinstance(raw, str) else ""
    if not name and default:
        return default[:MAX_NAME]
    if not name:
        raise Invalid([Problem(loc, "Give it a name.", "missing")])
    if len(name) > MAX_NAME:
        raise Invalid([Problem(loc, f"At most {MAX_NAME} characters.", "too_long")])
    return name
