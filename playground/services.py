"""The Playground: which models a user can pick, the parameter fields, prompt variables, and running a comparison."""

import functools
import re
from typing import Any

from core.problems import Invalid, Problem
from integrations.selectors import model_get
from runners.models import TERMINAL_STATUSES, Job, Run
from runners.parameters import RunParameters
from runners.selectors import run_live_output, run_output_preview
from runners.services import RunRequest, runs_start

MAX_COLUMNS = 4
VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

LABELS = {
    "max_tokens": "Max tokens",
    "top_p": "Top P",
    "top_k": "Top K",
    "n": "Choices (n)",
    "logprobs": "Log probabilities",
    "top_logprobs": "Top log probabilities",
}
HELP = {
    "temperature": "Randomness: 0 is focused, 2 is very varied.",
    "max_tokens": "Upper limit on the tokens of the answer.",
    "stop_sequences": "One per line; the answer stops before any of them.",
    "top_p": "Nucleus sampling: consider the tokens within this probability mass.",
    "top_k": "Consider only the K most likely tokens.",
    "frequency_penalty": "Positive values discourage repeating the same tokens.",
    "presence_penalty": "Positive values encourage new topics.",
    "echo": "Include the prompt in the answer.",
    "logprobs": "Return the log probability of each token.",
    "top_logprobs": "How many alternatives per token, with log probabilities.",
    "n": "How many answers to generate.",
    "tools": 'A JSON list of tools, e.g. [{"type": "function", "function": {...}}].',
    "tool_choice": '"none", "auto", "required", or a JSON object naming a function.',
    "response_format": 'A JSON object, e.g. {"type": "json_object"}.',
    "reasoning_effort": "How much the model thinks before answering.",
    "verbosity": "How long and detailed the answer is.",
}
JSON_PARAMETERS = {"tools", "tool_choice", "response_format"}


@functools.cache
def parameter_specs() -> dict[str, dict[str, Any]]:
    """One input description per run parameter, derived from RunParameters so the ranges never drift.

    kind is "number" (with min, max, step), "integer" (min, max), "boolean",
    "choice" (options), "lines" (a list of strings, one per line) or "json".
    """
    specs = {}
    for name, schema in RunParameters.model_json_schema()["properties"].items():
        options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
        types = {option.get("type") for option in options}
        spec: dict[str, Any] = {
            "name": name,
            "label": LABELS.get(name, name.replace("_", " ").capitalize()),
            "help": HELP.get(name, ""),
        }
        bounded = next((option for option in options if "minimum" in option), {})
        if name in JSON_PARAMETERS:
            spec["kind"] = "json"
        elif types == {"boolean"}:
            spec["kind"] = "boolean"
        elif "number" in types:
            spec.update(kind="number", min=bounded.get("minimum"), max=bounded.get("maximum"), step=0.05)
        elif types == {"integer"}:
            spec.update(kind="integer", min=bounded.get("minimum"), max=bounded.get("maximum"), step=1)
        elif types == {"string"} and "enum" in options[0]:
            spec.update(kind="choice", options=options[0]["enum"])
        elif types == {"array"}:
            spec.update(kind="lines", max_items=options[0].get("maxItems"))
        else:
            spec["kind"] = "json"
        specs[name] = spec
    return specs


def remembered_alias(groups: list[dict[str, Any]], draft: dict[str, Any] | None) -> str | None:
    """The model the user chose last (kept in their draft), if it still exists."""
    alias = (draft or {}).get("last_model")
    if any(model["alias"] == alias for group in groups for model in group["models"]):
        return alias
    return None


def message_variables(messages: list) -> list[str]:
    """The {{variable}} names used in the messages, in order of first use."""
    names: list[str] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            for name in VARIABLE_RE.findall(content):
                if name not in names:
                    names.append(name)
    return names


def messages_render(messages: Any, variables: Any) -> Any:
    """The messages with {{variable}} replaced by its value; a missing value is an error on that variable."""
    if not isinstance(messages, list):
        return messages  # run_enqueue explains what a message list must be
    values = variables if isinstance(variables, dict) else {}
    # An empty value is almost always a forgotten field, so it counts as missing.
    missing = [
        name for name in message_variables(messages) if not isinstance(values.get(name), str) or not values[name]
    ]
    if missing:
        raise Invalid([Problem(("variables", name), "Give this variable a value.", "missing") for name in missing])

    def substitute(text: str) -> str:
        return VARIABLE_RE.sub(lambda match: values[match.group(1)], text)

    return [
        {**message, "content": substitute(message["content"])}
        if isinstance(message, dict) and isinstance(message.get("content"), str)
        else message
        for message in messages
    ]


def playground_run(
    *, organization, user, messages: Any, variables: Any = None, columns: Any, stream: bool = True
) -> tuple[Job, list[Run]]:
    """Start one run per column (each its own model and parameters) on the same messages.

    All or nothing: if any column is invalid, Invalid lists every
    problem (paths like columns[1].parameters.temperature) and no run is queued.
    """
    if not isinstance(columns, list) or not columns:
        raise Invalid([Problem(("columns",), "Pick at least one model.", "too_short")])
    if len(columns) > MAX_COLUMNS:
        raise Invalid([Problem(("columns",), f"At most {MAX_COLUMNS} columns.", "too_long")])
    errors: list[Problem] = []
    try:
        rendered = messages_render(messages, variables)
    except Invalid as exc:
        errors += exc.errors
        rendered = messages
    requests = []
    for index, column in enumerate(columns):
        column = column if isinstance(column, dict) else {}
        alias = column.get("model")
        model = model_get(organization=organization, alias=alias) if isinstance(alias, str) else None
        if model is None:
            errors.append(Problem(("columns", index, "model"), "Pick a model.", "unknown_model"))
            continue
        parameters = column.get("parameters") or {}
        requests.append(
            RunRequest(model=model, messages=rendered, parameters=parameters, stream=stream, loc=("columns", index))
        )
    return runs_start(
        organization=organization, user=user, kind=Job.Kind.PLAYGROUND, requests=requests, problems=errors
    )


def _preview(messages, length: int = 90) -> str:
    """The last user message, shortened, to recognise a run in the history."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            text = " ".join(message["content"].split())
            return text if len(text) <= length else text[: length - 1] + "…"
    return ""


def run_payload(run: Run, *, detail: bool = True) -> dict[str, Any]:
    """What the Playground's script shows for a run (the request's secrets are already redacted on the Run).

    `detail=False` is a history entry, read through runners.selectors.runs_with_output_preview: its output is a
    preview (`output_truncated` says whether it was cut).
    """
    output, truncated = (run_live_output(run), False) if detail else run_output_preview(run)
    payload = {
        "id": str(run.pk),
        "job": str(run.job_id) if run.job_id else None,
        "status": run.status,
        "done": run.status in TERMINAL_STATUSES,
        "integration": run.integration_name,
        "model": run.model_alias,
        "model_name": run.model_name,
        "output": output,
        "output_truncated": truncated,
        "usage": run.usage,
        "latency_ms": run.latency_ms,
        "error": run.error,
        "dropped_parameters": run.dropped_parameters,
        "stream": run.stream,
        "created_at": run.created_at.isoformat(),
        "preview": _preview(run.messages),
    }
    if detail:
        payload.update(
            messages=run.messages,
            parameters=run.parameters,
            request=run.request,
            finish_reason=run.finish_reason,
        )
    return payload
