"""What executing a run produced, handed from the delivery stages to the store stage."""

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runners.completion import Reply
from runners.failures import FailureKind
from runners.transport import TransportError


@dataclass
class Outcome:
    """The request as last sent (secrets redacted, or None if none was built), the reply or the error, one
    record per attempt (see attempt_record), the latency of the successful exchange in ms, the parameters not sent,
    and every secret value to scrub from what is stored."""

    request: dict[str, Any] | None
    reply: Reply | None = None
    error: TransportError | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    dropped_parameters: list[str] | None = None
    # The learned rules applied to what finally went out (None: not an OpenAI-compatible delivery).
    applied_rules: list[dict[str, Any]] | None = None
    secrets: list[str] = field(default_factory=list)
    # Only a streamed run publishes partial output to the cache (and has it to clear).
    streamed: bool = False

    @classmethod
    def failed(cls, kind: FailureKind, message: str) -> "Outcome":
        """A run that failed before any request was built (nothing to retry)."""
        return cls(request=None, error=TransportError(message, permanent=True, error_type=kind))


def attempt_record(
    number: int,
    started_at: datetime,
    started: float,
    *,
    status_code: int | None = None,
    error_type: FailureKind | None = None,
) -> dict[str, Any]:
    """One entry of Run.attempt_log; `started` is the attempt's time.monotonic(), for its duration."""
    return {
        "attempt": number,
        "started_at": started_at.isoformat(),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "status_code": status_code,
        "error_type": error_type,
    }
