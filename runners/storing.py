"""Stage 6, store: the outcome written on the Run with one conditional UPDATE, if this worker still holds the claim."""

import logging
import time
import traceback
import uuid
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from runners.live_output import live_output_clear
from runners.models import Run, RunStatus
from runners.outcome import Outcome
from runners.redaction import scrub, scrub_json
from runners.signals import run_finished

logger = logging.getLogger(__name__)

STORE_ATTEMPTS = 3


def _fields(outcome: Outcome) -> dict[str, Any]:
    """The Run's columns for this outcome, every secret scrubbed."""
    fields: dict[str, Any] = {
        "attempts": len(outcome.attempts),
        "attempt_log": outcome.attempts,
        "request": scrub_json(outcome.request, outcome.secrets) if outcome.request else None,
        "latency_ms": outcome.latency_ms,
        "finished_at": timezone.now(),
    }
    if outcome.dropped_parameters is not None:
        fields["dropped_parameters"] = outcome.dropped_parameters
    if outcome.applied_rules is not None:
        fields["applied_rules"] = outcome.applied_rules
    if outcome.reply is not None:
        fields.update(
            status=RunStatus.SUCCEEDED,
            output=scrub(outcome.reply.output, outcome.secrets) if outcome.reply.output else outcome.reply.output,
            finish_reason=outcome.reply.finish_reason,
            response=scrub_json(outcome.reply.response, outcome.secrets),
            usage=outcome.reply.usage,
            error_type=None,
            error_message=None,
        )
    else:
        error = outcome.error
        fields.update(
            status=RunStatus.FAILED, error_type=error.error_type, error_message=scrub(error.message, outcome.secrets)
        )
    return fields


def run_store_outcome(*, run_id: str, claim: uuid.UUID, outcome: Outcome, job_id: str | None = None) -> bool:
    """Store the result if this worker still holds the claim (conditional UPDATE); False if it was discarded.

    A stored result is announced with runners.signals.run_finished (`job_id` is the run's job, passed along).
    A database that is briefly unreachable is tried STORE_ATTEMPTS times; then OperationalError or
    InterfaceError is raised (the task retries).
    """
    fields = _fields(outcome)
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            stored = Run.objects.filter(pk=run_id, status=RunStatus.RUNNING, claim_token=claim).update(**fields)
            break
        except (OperationalError, InterfaceError):
            if attempt == STORE_ATTEMPTS:
                raise
            connection.close()
            time.sleep(attempt)
    if outcome.streamed:
        live_output_clear(run_id=run_id)
    if not stored:
        logger.warning("run %s: result discarded, the run was reaped or taken over meanwhile", run_id)
        return False
    _announce_finished(run_id=run_id, status=fields["status"], job_id=job_id)
    return True


def _announce_finished(*, run_id: str, status: str, job_id: str | None) -> None:
    for receiver, result in run_finished.send_robust(sender=Run, run_id=str(run_id), status=str(status), job_id=job_id):
        if isinstance(result, Exception):
            # Frames only: an exception's message might carry a secret. The receiver's periodic safety net catches up.
            logger.error(
                "run %s: run_finished receiver %s raised %s\n%s",
                run_id,
                getattr(receiver, "__qualname__", receiver),
                type(result).__name__,
                "".join(traceback.format_tb(result.__traceback__)),
            )
