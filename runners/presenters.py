"""A run as JSON: the one representation that the API (GET /api/v2/runs...) and the pages' scripts read."""

from datetime import UTC, datetime
from typing import Any

from runners.models import Run
from runners.selectors import run_live_output, run_output_preview


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, always with microseconds: 2026-11-24T19:41:48.123456Z (None stays None)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def run_representation(run: Run, *, preview: bool = False) -> dict[str, Any]:
    """The run's fields in the API's order (DESIGN.md §6; api.views.runs.RunOutputSerializer documents them).

    `output` is the text so far while a run streams. `preview=True` is a list entry, read through
    runners.selectors.runs_with_output_preview: `output` is then its first OUTPUT_PREVIEW_LENGTH characters and
    `output_truncated` says whether it was cut. Secrets are already redacted on the Run.
    """
    output, truncated = run_output_preview(run) if preview else (run_live_output(run), False)
    return {
        "id": str(run.pk),
        "status": run.status,
        "integration": run.integration_name,
        "model": run.model_alias,
        "model_name": run.model_name,
        "job": None if run.job_id is None else str(run.job_id),
        "stream": run.stream,
        "messages": run.messages,
        "prompt_version": None if run.prompt_version_id is None else str(run.prompt_version_id),
        "parameters": run.parameters,
        "dropped_parameters": [str(name) for name in run.dropped_parameters],
        "applied_rules": run.applied_rules or [],
        "output": output,
        "finish_reason": run.finish_reason,
        "tool_calls": run.tool_calls,
        "reasoning": run.reasoning_preview if preview else run.reasoning,
        "usage": run.usage,
        "latency_ms": None if run.latency_ms is None else float(run.latency_ms),
        "time_to_first_token_ms": None if run.time_to_first_token_ms is None else float(run.time_to_first_token_ms),
        "error": run.error,
        "request": run.request,
        "attempts": run.attempts,
        "created_at": timestamp(run.created_at),
        "started_at": timestamp(run.started_at),
        "finished_at": timestamp(run.finished_at),
        "output_truncated": truncated,
    }
