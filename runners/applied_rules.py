"""Learned parameter rules as a run applies them: the records of Run.applied_rules, each
`{"parameter": "max_tokens", "action": "rename"|"drop", "to": "max_completion_tokens"|None, "rule": "<uuid>"}`
(integrations.ParameterRule.as_applied). runners.negotiation learns them; run_enqueue picks those of the model."""

from collections.abc import Iterable, Sequence
from typing import Any

from integrations.models import ParameterAction

# The runner's own key of a streamed request, negotiable like a parameter.
STREAM_OPTIONS = "stream_options"


def effective_names(parameter_names: dict[str, str], rules: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The model's `parameter_names` with the rename rules applied over them."""
    return {
        **parameter_names,
        **{rule["parameter"]: rule["to"] for rule in rules if rule["action"] == ParameterAction.RENAME},
    }


def dropped_by_rules(rules: Sequence[dict[str, Any]]) -> set[str]:
    """The parameters (or runner keys) the rules drop."""
    return {rule["parameter"] for rule in rules if rule["action"] == ParameterAction.DROP}


def rules_applying(rules: Sequence[dict[str, Any]], *, parameters: Iterable[str], stream: bool) -> list[dict]:
    """The rules that change a run sending these (supported) `parameters`, streamed or not."""
    present = set(parameters) | ({STREAM_OPTIONS} if stream else set())
    return [dict(rule) for rule in rules if rule["parameter"] in present]
