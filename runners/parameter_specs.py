"""What a form shows for each run parameter (its kind, range, label and help), derived from RunParameters so the
ranges never drift, and the reading of a field's text as the parameter's value.

The Playground's parameter panel (static/js/playground.js, built from parameter_specs) and the new-evaluation form
(evaluations.forms, server-rendered from the same specs) show the same controls.
"""

import functools
from typing import Any

from core import strict_json
from runners.parameters import RunParameters

LABELS = {
    "max_tokens": "Max tokens",
    "top_p": "Top P",
    "top_k": "Top K",
    "n": "Choices (n)",
    "logprobs": "Log probabilities",
    "top_logprobs": "Top log probabilities",
    "parallel_tool_calls": "Parallel tool calls",
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
    "tools": "Functions the model may call: each a name, what it does and its parameters as a JSON schema.",
    "tool_choice": '"none", "auto", "required", or a JSON object naming a function.',
    "response_format": "Text, any JSON object, or JSON matching a schema (the answer is checked against it).",
    "reasoning_effort": "How much the model thinks before answering.",
    "verbosity": "How long and detailed the answer is.",
    "seed": "Same seed and parameters: the provider tries to give the same answer (best effort).",
    "parallel_tool_calls": "Whether the model may call several tools at once.",
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


def parameter_from_text(spec: dict[str, Any], raw: str) -> Any:
    """The value of a parameter field's non-empty, trimmed text, by its spec's kind (as the Playground's
    static/js/playground/parameters.js parameterValue reads it). Raises ValueError with the message to show at the
    field when the text is not a value of that kind; ranges are validate_parameters' job."""
    kind = spec["kind"]
    if kind in ("number", "integer"):
        try:
            number = strict_json.finite_float(raw)
        except ValueError:
            raise ValueError("Enter a number.") from None
        return int(number) if kind == "integer" and number.is_integer() else number
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("Choose true or false.")
        return raw == "true"
    if kind == "choice":
        if raw not in spec["options"]:
            raise ValueError(f"Choose one of: {', '.join(spec['options'])}.")
        return raw
    if kind == "lines":
        return [line.strip() for line in raw.split("\n") if line.strip()]
    if spec["name"] == "tool_choice" and raw.isalpha() and raw.islower():
        return raw  # "none", "auto", "required"
    try:
        return strict_json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"Not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError("Not valid JSON: nested too deeply.") from None
