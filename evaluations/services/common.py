"""Pieces the evaluation services share: names, the cancelled marker, the in-use error, idempotency keys."""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, models

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


def created_once(
    *,
    model: type[models.Model],
    organization,
    idempotency_key: Any,
    request: dict,
    create: Callable[..., models.Model],
    what: str,
    twin_errors: tuple[type[Exception], ...] = (IntegrityError,),
) -> tuple[models.Model, bool]:
    """`create(idempotency=(key, digest))` once per organisation and `idempotency_key`: (the object, True if this call
    created it). `model` keeps the key and the request's digest (`idempotency_key`, `request_digest`).

    A repeated request with the same key and the same `request` gets the first object, also when both arrive at once:
    the twin that loses raises one of `twin_errors` (the key's unique constraint) and finds the winner's object. The
    same key with another request raises IdempotencyKeyInvalid (`idempotency_conflict`, naming `what`), as does a
    malformed key; otherwise raises what `create` raises.
    """
    digest = idempotency_digest(key=idempotency_key, request=request)
    existing = _created_for_key(model, organization, idempotency_key, digest, what)
    if existing is not None:
        return existing, False
    try:
        return create(idempotency=(idempotency_key, digest)), True
    except twin_errors:
        existing = _created_for_key(model, organization, idempotency_key, digest, what)
        if existing is None:
            raise
        return existing, False


def _created_for_key(model, organization, key: str, digest: str, what: str):
    found = model.objects.filter(organization=organization, idempotency_key=key).first()
    if found is not None and found.request_digest != digest:
        raise idempotency_conflict(what)
    return found
