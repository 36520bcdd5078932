"""Pieces the evaluation services share: names, the cancelled marker, the in-use error, idempotency keys."""

import hashlib
import json
import re
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


IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyKeyInvalid(Invalid):
    """The idempotency key is malformed or was used with another request; its Problem's loc is ("Idempotency-Key",)."""


def idempotency_digest(*, key: Any, request: dict) -> str:
    """The digest (64 hex characters) of a request made once per `key`, after checking the key: 1 to 255 visible
    ASCII characters (the `Idempotency-Key` header, draft-ietf-httpapi-idempotency-key-header, or a form's token).
    Raises IdempotencyKeyInvalid (`idempotency_key`) for any other key."""
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise IdempotencyKeyInvalid(
            [Problem(("Idempotency-Key",), "1 to 255 visible ASCII characters, such as a UUID.", "idempotency_key")]
        )
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_conflict(what: str) -> IdempotencyKeyInvalid:
    """The error for a key already used with another request (for a different `what`: "evaluation", "metric")."""
    return IdempotencyKeyInvalid(
        [
            Problem(
                ("Idempotency-Key",),
                f"This key was already used for a different {what}; use a new key for a new request.",
                "idempotency_conflict",
            )
        ]
    )
