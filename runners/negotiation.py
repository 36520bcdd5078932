"""Negotiation with a provider that refuses a request because of a named parameter.

A provider that does not take a parameter answers 400 naming it. The forms seen in the field (each reproduced by
tests/fixtures/servers.py `refuse_parameters`):

- OpenAI and Azure OpenAI: `{"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this
  model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens",
  "code": "unsupported_parameter"}}`; `"code": "unsupported_value"` for a value only the default of which is
  accepted (o-series `temperature`). Older Azure api-versions: `"Unrecognized request argument supplied:
  stream_options"` with no `param`.
- vLLM: `{"error": {"message": "...", "type": "BadRequestError", "param": "stream_options", "code": 400}}`
  (`VLLMValidationError(parameter=...)`), before 0.10 the same members at the top level with `"object": "error"`;
  request validation errors list pydantic's `('body', 'name')` locations ("Extra inputs are not permitted").
- Groq (2024): `{"error": {"message": "property 'stream_options' is unsupported, did you mean 'stream'?",
  "type": "invalid_request_error"}}`.
- Mistral's API and FastAPI servers whose request model forbids extra keys: 422 with pydantic's items,
  `{"detail": [{"type": "extra_forbidden", "loc": ["body", "n"], ...}]}`, under `message` for Mistral (an object, a
  list, or that object as JSON text); only a top-level `loc` (`["body", name]`) is a parameter.
- LiteLLM proxy: `{"error": {"message": "litellm.UnsupportedParamsError: openai does not support parameters:
  ['seed'], for model=... To drop these, set `litellm.drop_params=True` ...", "type": "None", "param": "None",
  "code": "400"}}`.

The runner then retries once with each refused parameter renamed to its known alternative (max_tokens <->
max_completion_tokens, OpenAI's reasoning models) or dropped, and keeps the finding as an
integrations.ParameterRule (model, parameter, action) that later runs apply before sending (run_enqueue reads
them into Run.applied_rules). Only a parameter the request really carried is ever acted on.
"""

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from integrations.models import ParameterAction
from integrations.parameter_rules import parameter_rule_learn
from runners.applied_rules import effective_names
from runners.outcome import Outcome
from runners.parameters import wire_name
from runners.redaction import shorten
from runners.request_building import RunTarget
from runners.transport import MAX_DETAIL_LENGTH, TransportError, provider_detail

# Wire names a provider may take a parameter under instead (OpenAI deprecated max_tokens for
# max_completion_tokens; its o-series and gpt-5 refuse max_tokens, many compatible servers know only max_tokens).
ALTERNATIVES = {"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}
# Body keys that are never negotiated away: without them there is no request.
ESSENTIAL_KEYS = ("model", "messages", "stream")
REFUSAL_STATUSES = (400, 422)
# error.code values that mean "this parameter, as sent, is not accepted" (OpenAI, Azure OpenAI).
REFUSAL_CODES = {"unsupported_parameter", "unsupported_value", "unknown_parameter"}
# With a `param` but another code (vLLM's 400, a proxy's own), the message must say the parameter is refused.
REFUSAL_WORDS = re.compile(
    r"unsupported|not supported|does not support|unrecognized|unknown|not permitted|not allowed|extra inputs",
    re.IGNORECASE,
)
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
# Messages that name the parameter without a `param` member.
NAMED_IN_MESSAGE = [
    re.compile(rf"Unsupported (?:parameter|value): '({_NAME})'", re.IGNORECASE),  # OpenAI, Azure, GitHub Models
    re.compile(rf"Unrecognized request arguments? supplied: ({_NAME})", re.IGNORECASE),  # Azure OpenAI
    re.compile(rf"property '({_NAME})' is unsupported", re.IGNORECASE),  # Groq: "..., did you mean 'stream'?"
    re.compile(rf"Unknown (?:parameter|name|field|argument)s?:? ['\"`]?({_NAME})", re.IGNORECASE),  # Gemini, others
    re.compile(rf"\('body', '({_NAME})'\)[^)]*?(?:extra|not permitted)", re.IGNORECASE),  # vLLM's pydantic errors
]
LITELLM_UNSUPPORTED = re.compile(r"does not support parameters:\s*\[([^\]]*)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Refusal:
    """Wire names the provider refused (each a key of the body sent), whether it refused their value rather than
    the name, and its message (scrubbed of secrets, shortened)."""

    wire_names: tuple[str, ...]
    value_refused: bool
    reason: str


def _error_object(data: Any) -> dict | None:
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    # vLLM before 0.10, Mistral and FastAPI servers: the members at the top level.
    return error if isinstance(error, dict) else data


def _validation_items(data: dict, error: dict) -> list[dict]:
    """pydantic's error items wherever a server puts them: FastAPI's `detail`, Mistral's `message.detail` (an
    object, a list, or that object as JSON text)."""
    items: list[dict] = []
    for found in (data.get("detail"), error.get("detail"), error.get("message")):
        if isinstance(found, str) and found.lstrip().startswith(("{", "[")):
            try:
                found = json.loads(found)
            except ValueError:
                continue
        if isinstance(found, dict):
            found = found.get("detail")
        if isinstance(found, list):
            items += [item for item in found if isinstance(item, dict)]
    return items


def _extra_inputs(items: list[dict]) -> list[str]:
    """Top-level body keys that pydantic refused as extra inputs (a nested `loc` is no parameter of ours)."""
    names = []
    for item in items:
        loc = item.get("loc")
        extra = item.get("type") == "extra_forbidden" or "not permitted" in str(item.get("msg", ""))
        if extra and isinstance(loc, list | tuple) and len(loc) == 2 and loc[0] == "body" and isinstance(loc[1], str):
            names.append(loc[1])
    return names


def refusal_of(
    status: int | None, body: bytes | None, sent: dict[str, Any], *, secrets: Sequence[str] = ()
) -> Refusal | None:
    """The parameters a 400/422 answer refuses by name, if it is such a refusal of keys that `sent` carries."""
    if status not in REFUSAL_STATUSES or not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = _error_object(data)
    if error is None:
        return None
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    code = error.get("code") if isinstance(error.get("code"), str) else ""
    negotiable = [key for key in sent if key not in ESSENTIAL_KEYS]
    named: list[str] = []
    param = error.get("param")
    if isinstance(param, str) and param in negotiable and (code in REFUSAL_CODES or REFUSAL_WORDS.search(message)):
        named.append(param)
    if not named and (match := LITELLM_UNSUPPORTED.search(message)):
        named = [name for name in re.findall(rf"['\"]({_NAME})['\"]", match.group(1)) if name in negotiable]
    if not named:
        for pattern in NAMED_IN_MESSAGE:
            named = [name for name in pattern.findall(message) if name in negotiable]
            if named:
                break
    items = _validation_items(data, error)
    if not named:
        named = [name for name in _extra_inputs(items) if name in negotiable]
    if not named:
        return None
    reason = (
        provider_detail(body, "application/json", secrets=secrets) or _items_text(items, secrets) or f"HTTP {status}"
    )
    value_refused = code == "unsupported_value" or message.lower().startswith("unsupported value")
    return Refusal(tuple(dict.fromkeys(named)), value_refused, reason)


def _items_text(items: list[dict], secrets: Sequence[str]) -> str:
    """pydantic's items as a sentence ("body.n: Extra inputs are not permitted"), scrubbed and shortened."""
    text = "; ".join(
        f"{'.'.join(str(part) for part in item.get('loc') or ())}: {item.get('msg', '')}" for item in items
    )
    return shorten(text, MAX_DETAIL_LENGTH, secrets)


def _parameter_of(wire: str, parameters: Iterable[str], names: dict[str, str]) -> str:
    """The run parameter sent as `wire` (or `wire` itself for a key of the runner's own, such as stream_options)."""
    return next((name for name in parameters if wire_name(name, names) == wire), wire)


def rules_for_refusal(refusal: Refusal, target: RunTarget) -> list[dict[str, Any]]:
    """(parameter, action, to) for each refused wire name: rename to its alternative when there is one that this
    request did not already send (and no rename of it was applied already), else drop."""
    kept, _ = target.split_parameters()
    names = effective_names(target.parameter_names, target.rules)
    sent_wires = {wire_name(name, names) for name in kept}
    renamed = {rule["parameter"] for rule in target.rules if rule["action"] == ParameterAction.RENAME}
    rules = []
    for wire in refusal.wire_names:
        parameter = _parameter_of(wire, kept, names)
        alternative = ALTERNATIVES.get(wire)
        if alternative and not refusal.value_refused and alternative not in sent_wires and parameter not in renamed:
            rules.append({"parameter": parameter, "action": ParameterAction.RENAME.value, "to": alternative})
        else:
            rules.append({"parameter": parameter, "action": ParameterAction.DROP.value, "to": None})
    return rules


def negotiate(target: RunTarget, outcome: Outcome, error: TransportError) -> RunTarget | None:
    """After a refused attempt: the RunTarget to try again with (its rules extended by what was learned, each
    stored as a ParameterRule), or None when `error` is no refusal of a named parameter or this run negotiated
    already. Notes the refusal on the attempt's record and the rules on `outcome.applied_rules`."""
    if any("refused_parameters" in attempt for attempt in outcome.attempts) or outcome.request is None:
        return None
    sent = outcome.request.get("body") or {}
    secrets = [*target.secret_values(), *outcome.secrets]
    refusal = refusal_of(error.status_code, getattr(error, "provider_body", None), sent, secrets=secrets)
    if refusal is None:
        return None
    learned = rules_for_refusal(refusal, target)
    rules = [rule for rule in target.rules if rule["parameter"] not in {r["parameter"] for r in learned}]
    for rule in learned:
        stored = parameter_rule_learn(
            integration_id=target.integration_id,
            model_name=target.model_name,
            parameter=rule["parameter"],
            action=rule["action"],
            to=rule["to"],
            reason=refusal.reason,
            run_id=target.run_id,
        )
        rules.append({**rule, "rule": str(stored.uuid) if stored is not None else None})
    outcome.attempts[-1]["refused_parameters"] = list(refusal.wire_names)
    outcome.applied_rules = rules
    return replace(target, rules=tuple(rules))
