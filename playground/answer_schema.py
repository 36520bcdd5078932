"""The answer checked against the structured output the run asked for (`response_format`), for the Playground.

OpenAI's Chat Completions `response_format` (https://platform.openai.com/docs/guides/structured-outputs):
`{"type": "json_object"}` asks for any JSON object; `{"type": "json_schema", "json_schema": {"name", "schema",
"strict"?}}` for JSON matching `schema`. The check runs on the server with `jsonschema` (Draft 2020-12, the version
OpenAI's structured outputs use): a validator in the page would compile schemas to code, which the pages'
Content-Security-Policy (no eval) forbids.
"""

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from runners.models import Run, RunStatus

MAX_ERRORS = 20


def _path(error) -> str:
    """The JSON path of a validation error, as `$.items[0].name`."""
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def answer_schema_check(run: Run) -> dict[str, Any] | None:
    """The check of a succeeded run's answer against its `response_format`, or None when it asked for none (or the
    run did not succeed).

    Returns {"format": "json_object" | "json_schema", "valid": bool, "errors": [{"path": "$.a[0]", "message"}]} with at
    most MAX_ERRORS errors, ordered by path. An answer that is not JSON, or a schema that is not one, is one error
    at "$".
    """
    response_format = (run.parameters or {}).get("response_format")
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("json_object", "json_schema") or run.status != RunStatus.SUCCEEDED or run.tool_calls:
        return None
    try:
        answer = json.loads(run.output or "")
    except ValueError as exc:
        return _result(kind, [{"path": "$", "message": f"The answer is not JSON ({exc.msg}, at character {exc.pos})."}])
    if kind == "json_object":
        errors = [] if isinstance(answer, dict) else [{"path": "$", "message": "The answer is JSON but not an object."}]
        return _result(kind, errors)
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        return _result(kind, [{"path": "$", "message": "The response format has no schema to check against."}])
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return _result(kind, [{"path": "$", "message": f"The schema itself is invalid: {exc.message}"}])
    found = sorted(
        Draft202012Validator(schema).iter_errors(answer), key=lambda error: list(map(str, error.absolute_path))
    )
    return _result(kind, [{"path": _path(error), "message": error.message} for error in found[:MAX_ERRORS]])


def _result(kind: str, errors: list[dict]) -> dict[str, Any]:
    return {"format": kind, "valid": not errors, "errors": errors}
