"""Playground drafts: each user's unsent state, saved as the page changes and given back on the next visit.

A draft is work in progress, so its values are not checked as a run's are (a half-typed temperature is fine);
only its shape is, and its size is bounded.
"""

import json
from typing import Any

from core.problems import Invalid, Problem, unstorable_strings
from playground.models import PlaygroundDraft

MAX_DRAFT_BYTES = 256 * 1024
# Key -> the JSON type its value must have (None is always allowed: "not set").
DRAFT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "messages": list,  # [{"role", "content"}], as written ({{variables}} unfilled)
    "variables": dict,  # name -> value
    "columns": list,  # [{"model": alias, "parameters": {name: value as typed}}]
    "compare": bool,
    "stream": bool,
    "prompt": dict,  # {"id": prompt UUID, "version": number}: the saved prompt version opened, if any
    "last_model": str,  # the model alias chosen last
}


def draft_clean(raw: Any) -> dict[str, Any]:
    """The draft to store: known keys only; Invalid (loc `draft.<key>`) for a value of the wrong type."""
    if not isinstance(raw, dict):
        raise Invalid([Problem(("draft",), "Must be an object.", "dict_type")])
    if len(json.dumps(raw)) > MAX_DRAFT_BYTES:
        raise Invalid([Problem(("draft",), f"At most {MAX_DRAFT_BYTES // 1024} KiB.", "too_long")])
    errors = unstorable_strings(raw, ("draft",))
    clean = {}
    for key, kind in DRAFT_FIELDS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            errors.append(Problem(("draft", key), f"Must be a JSON {_type_name(kind)}.", "type_error"))
            continue
        clean[key] = value
    if errors:
        raise Invalid(errors)
    return clean


def _type_name(kind) -> str:
    return {list: "list", dict: "object", bool: "boolean", str: "string"}[kind]


def playground_draft_save(*, user, organization, data: Any) -> PlaygroundDraft:
    """Replace the user's draft with `data` (see DRAFT_FIELDS)."""
    draft, _ = PlaygroundDraft.objects.update_or_create(
        user=user, defaults={"organization": organization, "data": draft_clean(data)}
    )
    return draft


def playground_draft_get(*, user, organization) -> dict[str, Any] | None:
    """The user's draft in this organisation, or None (a user moved to another organisation starts afresh)."""
    draft = PlaygroundDraft.objects.filter(user=user, organization=organization).first()
    return draft.data if draft is not None else None
