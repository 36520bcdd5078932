"""The built-in model catalogue (builtin_models.json) and the run parameters."""

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

# Run parameter names accepted in documents and runs, in display order.
RUN_PARAMETERS: tuple[str, ...] = (
    "temperature",
    "max_tokens",
    "stop_sequences",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "echo",
    "logprobs",
    "top_logprobs",
    "n",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
    "verbosity",
    "seed",
    "parallel_tool_calls",
)
PARAMETER_ALIASES = {"stop": "stop_sequences"}
# Used when a model names neither based_on nor supported_parameters.
DEFAULT_PARAMETERS: tuple[str, ...] = (
    "frequency_penalty",
    "max_tokens",
    "presence_penalty",
    "stop_sequences",
    "temperature",
    "top_p",
)
# Chat Completions wire names, where they differ from the run parameter name (a model's `parameter_names` may
# say otherwise, e.g. OpenAI's reasoning models take max_tokens as max_completion_tokens).
WIRE_NAMES = {"stop_sequences": "stop"}
# Keys of the request body that are the runner's own, never a parameter's wire name.
RESERVED_BODY_KEYS = ("model", "messages", "stream", "stream_options")


def canonical_parameter(name: str) -> str | None:
    """The run parameter a document name refers to, or None if unknown."""
    name = PARAMETER_ALIASES.get(name, name)
    return name if name in RUN_PARAMETERS else None


@dataclass(frozen=True)
class BuiltinModel:
    alias: str
    provider: str
    supported_parameters: tuple[str, ...]
    # Run parameter -> wire name, where this model takes another name than WIRE_NAMES gives.
    parameter_names: dict[str, str] = field(default_factory=dict)


@functools.cache
def _catalogue() -> dict[str, BuiltinModel]:
    data = json.loads((Path(__file__).parent / "builtin_models.json").read_text())
    profiles, name_profiles = data["parameter_profiles"], data["parameter_names"]
    models = {}
    for provider in data["providers"]:
        for entry in provider["models"]:
            parameters = tuple(profiles[entry["parameters"]])
            names = dict(name_profiles[entry["parameter_names"]]) if "parameter_names" in entry else {}
            assert all(p in RUN_PARAMETERS for p in parameters), entry
            assert all(p in parameters for p in names), entry
            models[entry["alias"]] = BuiltinModel(entry["alias"], provider["name"], parameters, names)
    return models


def builtin_model(alias: str) -> BuiltinModel | None:
    return _catalogue().get(alias)


def builtin_models() -> list[BuiltinModel]:
    return list(_catalogue().values())


def builtin_models_by_provider() -> dict[str, list[BuiltinModel]]:
    grouped: dict[str, list[BuiltinModel]] = {}
    for model in _catalogue().values():
        grouped.setdefault(model.provider, []).append(model)
    return grouped
