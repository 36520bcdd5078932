"""What runners report to the metrics (core/metrics_store.py): one call per stored run outcome, one per
OAuth2 token request. Labels are bounded sets: status, error_type (the runners' own vocabulary), outcome, and an
integration's name only when the operator opts in (METRICS_INTEGRATION_LABELS, capped). Never a secret, a prompt
or an answer."""

import re

from django.conf import settings

from core.metrics_store import (
    COMPLETION_TOKENS,
    PROMPT_TOKENS,
    PROVIDER_LATENCY,
    RETRIES,
    RUNS,
    TIME_TO_FIRST_TOKEN,
    TOKEN_REQUESTS,
    integration_label,
    metrics_increment,
    metrics_observe,
)

_ERROR_TYPE = re.compile(r"[a-z_]{1,40}")
TOKEN_REQUEST_OUTCOMES = ("ok", "http_error", "invalid_response", "unreachable", "timeout")


def _error_type(value: str | None) -> str:
    if not value:
        return ""
    return value if _ERROR_TYPE.fullmatch(value) else "other"


def observe_run_outcome(*, outcome, integration_name: str) -> None:
    """Count a run whose outcome (runners.outcome.Outcome) was just stored: its status and error_type, the
    attempts retried, the provider latency and time to first token (seconds), and the tokens used."""
    integration = integration_label(integration_name) if settings.METRICS_INTEGRATION_LABELS else ""
    reply = outcome.reply
    if reply is None:
        metrics_increment(RUNS, ("failed", _error_type(outcome.error.error_type), integration))
    else:
        metrics_increment(RUNS, ("succeeded", "", integration))
    for attempt in outcome.attempts[:-1]:
        metrics_increment(RETRIES, (_error_type(attempt.get("error_type")),))
    if reply is None:
        return
    if outcome.latency_ms is not None:
        metrics_observe(PROVIDER_LATENCY, outcome.latency_ms / 1000, (integration,))
    if reply.time_to_first_token_ms is not None:
        metrics_observe(TIME_TO_FIRST_TOKEN, reply.time_to_first_token_ms / 1000, (integration,))
    usage = reply.usage or {}
    metrics_increment(PROMPT_TOKENS, (integration,), usage.get("prompt_tokens") or 0)
    metrics_increment(COMPLETION_TOKENS, (integration,), usage.get("completion_tokens") or 0)


def observe_token_request(*, outcome: str) -> None:
    """Count one request to an OAuth2 token endpoint; `outcome` is one of TOKEN_REQUEST_OUTCOMES."""
    metrics_increment(TOKEN_REQUESTS, (outcome if outcome in TOKEN_REQUEST_OUTCOMES else "other",))
