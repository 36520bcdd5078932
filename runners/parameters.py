"""Run parameters: validation of values, filtering by what a model supports, wire names."""

from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from core.problems import Invalid, Problem
from core.strict_json import first_non_finite
from integrations.catalogue import PARAMETER_ALIASES, RUN_PARAMETERS, WIRE_NAMES


class RunParameters(BaseModel):
    """Every run parameter with the range a Chat Completions endpoint accepts."""

    model_config = ConfigDict(extra="forbid", strict=True)

    temperature: Annotated[float, Field(ge=0, le=2)] | Annotated[int, Field(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    stop_sequences: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=16)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | Annotated[int, Field(ge=0, le=1)] | None = None
    top_k: Annotated[int, Field(ge=1, le=1000)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | Annotated[int, Field(ge=-2, le=2)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | Annotated[int, Field(ge=-2, le=2)] | None = None
    echo: bool | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    n: Annotated[int, Field(ge=1, le=16)] | None = None
    tools: Annotated[list[dict[str, Any]], Field(max_length=128)] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    # OpenAI: an integer for best-effort deterministic sampling (signed 64-bit on the wire).
    seed: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | None = None
    # OpenAI: whether the model may call several tools in one turn (only meaningful with `tools`).
    parallel_tool_calls: bool | None = None


assert tuple(RunParameters.model_fields) == RUN_PARAMETERS


def validate_parameters(raw: Any, *, loc_prefix: tuple = ("parameters",)) -> dict[str, Any]:
    """Canonical run parameters (stop -> stop_sequences, a single stop string -> list, nulls dropped).

    Raises Invalid with a Problem per parameter at `(*loc_prefix, name, ...)`: an unknown name, a value out of range,
    or a NaN/Infinity anywhere inside a value (JSON has no such numbers and PostgreSQL's jsonb refuses them)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid([Problem(loc_prefix, "Must be an object of parameter names to values.", "dict_type")])
    canonical: dict[str, Any] = {}
    for alias, name in PARAMETER_ALIASES.items():
        if alias in raw and name in raw:
            raise Invalid(
                [
                    Problem(
                        (*loc_prefix, alias), f'"{alias}" and "{name}" are the same parameter; send one.', "duplicate"
                    )
                ]
            )
    non_finite = [where for name, value in raw.items() if (where := first_non_finite(value, (*loc_prefix, name)))]
    if non_finite:
        message = "Must be a finite number: JSON has no NaN or Infinity."
        raise Invalid([Problem(where, message, "finite_number") for where in non_finite])
    for name, value in raw.items():
        key = PARAMETER_ALIASES.get(name, name)
        if key == "stop_sequences" and isinstance(value, str):
            value = [value]
        canonical[key] = value
    try:
        parsed = RunParameters.model_validate(canonical)
    except pydantic.ValidationError as exc:
        errors = []
        for error in exc.errors():
            name = error["loc"][0] if error["loc"] else None
            if error["type"] == "extra_forbidden":
                message = f'"{name}" is not a run parameter. Known: {", ".join(RUN_PARAMETERS)}.'
            else:
                message = error["msg"].rstrip(".") + "."
            # Union members repeat the same complaint; keep one per parameter.
            loc = (*loc_prefix, name) if name is not None else loc_prefix
            if not any(e.loc == loc for e in errors):
                errors.append(Problem(loc, message, error["type"]))
        raise Invalid(errors) from None
    return parsed.model_dump(exclude_none=True)


def split_supported(parameters: dict[str, Any], supported: list[str]) -> tuple[dict[str, Any], list[str]]:
    """(parameters the model supports, names dropped because it does not)."""
    kept = {name: value for name, value in parameters.items() if name in supported}
    dropped = sorted(name for name in parameters if name not in supported)
    return kept, dropped


def wire_name(name: str, names: dict[str, str] | None = None) -> str:
    """The name run parameter `name` goes out under: the model's `parameter_names`, else WIRE_NAMES, else itself."""
    return (names or {}).get(name) or WIRE_NAMES.get(name, name)


def to_wire(parameters: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """The parameters under their wire names; `names` is the model's `parameter_names` (run parameter -> wire name)."""
    return {wire_name(name, names): value for name, value in parameters.items()}
