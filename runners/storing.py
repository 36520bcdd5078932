"""Stage 6, store: the outcome written on the Run with one conditional UPDATE, if this worker still holds the claim."""

import functools
import logging
import time
import traceback
import uuid
from contextlib import nullcontext
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from runners.completion import Reply
from runners.failures import FailureKind
from runners.live_output import live_output_clear
from runners.models import Run, RunStatus
from runners.outcome import Outcome
from runners.redaction import scrub, scrub_json
from runners.signals import run_finished
from runners.storable import storable_json, storable_text

logger = logging.getLogger(__name__)

STORE_ATTEMPTS = 3


def _reply_fields(reply: Reply, secrets: list[str]) -> dict[str, Any]:
    """The answer's columns (also a failed run's output received so far), scrubbed and made storable."""

    def text(value: str | None) -> str | None:
        return storable_text(scrub(value, secrets)) if value else value

    return {
        "output": text(reply.output),
        # A column of 64 characters: a longer value is cut rather than refused.
        "finish_reason": text(reply.finish_reason)[: Run._meta.get_field("finish_reason").max_length]
        if reply.finish_reason
        else None,
        "response": scrub_json(storable_json(reply.response), secrets),
        "usage": storable_json(reply.usage),
        "tool_calls": scrub_json(storable_json(reply.tool_calls), secrets) if reply.tool_calls else None,
        "reasoning": text(reply.reasoning),
        "time_to_first_token_ms": None
        if reply.time_to_first_token_ms is None
        else round(reply.time_to_first_token_ms, 1),
    }


def _fields(outcome: Outcome) -> dict[str, Any]:
    """The Run's columns for this outcome, every secret scrubbed, every value one the database can store
    (runners.storable)."""
    fields: dict[str, Any] = {
        "attempts": len(outcome.attempts),
        "attempt_log": outcome.attempts,
        "request": scrub_json(storable_json(outcome.request), outcome.secrets) if outcome.request else None,
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
            error_type=None,
            error_message=None,
            **_reply_fields(outcome.reply, outcome.secrets),
        )
    else:
        error = outcome.error
        fields.update(
            status=RunStatus.FAILED,
            error_type=error.error_type,
            error_message=storable_text(scrub(error.message, outcome.secrets)),
        )
        if error.partial is not None:
            fields.update(_reply_fields(error.partial, outcome.secrets))
    return fields


def _unstorable_fields(fields: dict[str, Any], exc: Exception) -> dict[str, Any]:
    """The failure stored instead when the database refused `fields` (nothing of the answer is kept)."""
    return {
        "attempts": fields["attempts"],
        "attempt_log": storable_json(fields["attempt_log"]),
        "latency_ms": fields["latency_ms"],
        "time_to_first_token_ms": fields.get("time_to_first_token_ms"),
        "finished_at": fields["finished_at"],
        "status": RunStatus.FAILED,
        "error_type": FailureKind.UNSTORABLE_ANSWER,
        "error_message": f"The database refused to store the provider's answer ({type(exc).__name__}); the answer "
        "was dropped. Please report it: answers are made storable before they are written.",
    }


@functools.cache
def _update_sql(names: tuple[str, ...], vendor: str) -> str:
    """`UPDATE run SET <names> WHERE id = %s AND status = %s AND claim_token = %s`, built once per set of columns.

    What `Run.objects.filter(...).update(...)` sends, without compiling the query again for every run.
    """
    quote = connection.ops.quote_name
    column = {name: quote(Run._meta.get_field(name).column) for name in (*names, "id", "status", "claim_token")}
    assignments = ", ".join(f"{column[name]} = %s" for name in names)
    # Identifiers come from the models' metadata, values are parameters.
    return (
        f"UPDATE {quote(Run._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {column['id']} = %s AND {column['status']} = %s AND {column['claim_token']} = %s"
    )


def _conditional_update(run_id: str, claim: uuid.UUID, fields: dict[str, Any]) -> int:
    """Write `fields` on the run if it is still running under `claim`; the number of rows written (0 or 1)."""
    names = tuple(sorted(fields))
    field = Run._meta.get_field
    values = [field(name).get_db_prep_save(fields[name], connection) for name in names]
    where = [
        Run._meta.pk.get_db_prep_value(run_id, connection),
        RunStatus.RUNNING.value,
        field("claim_token").get_db_prep_value(claim, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(names, connection.vendor), [*values, *where])
        return cursor.rowcount


def _update(run_id: str, claim: uuid.UUID, fields: dict[str, Any]) -> int:
    """The conditional UPDATE; when the database refuses the values (DataError, IntegrityError, or text the driver
    cannot encode), the failure is stored instead in the same call, so the run never stays `running`."""
    try:
        # Inside a caller's transaction a refused statement must only roll back to its savepoint.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return _conditional_update(run_id, claim, fields)
    except (OperationalError, InterfaceError):
        raise
    except (DatabaseError, ValueError) as exc:
        logger.error(
            "run %s: the database refused the result (%s); storing a failure instead", run_id, type(exc).__name__
        )
        return _conditional_update(run_id, claim, _unstorable_fields(fields, exc))


def run_store_outcome(
    *, run_id: str, claim: uuid.UUID, outcome: Outcome, job_id: str | None = None, work_class: str | None = None
) -> bool:
    """Store the result if this worker still holds the claim (conditional UPDATE); False if it was discarded.

    A stored result is announced with runners.signals.run_finished (`job_id` and `work_class` are the run's, passed
    along).
    A database that is briefly unreachable is tried STORE_ATTEMPTS times; then OperationalError or
    InterfaceError is raised (the task retries).
    """
    fields = _fields(outcome)
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            stored = _update(run_id, claim, fields)
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
    _announce_finished(run_id=run_id, status=fields["status"], job_id=job_id, work_class=work_class)
    return True


def _announce_finished(*, run_id: str, status: str, job_id: str | None, work_class: str | None) -> None:
    announced = run_finished.send_robust(
        sender=Run, run_id=str(run_id), status=str(status), job_id=job_id, work_class=work_class
    )
    for receiver, result in announced:
        if isinstance(result, Exception):
            # Frames only: an exception's message might carry a secret. The receiver's periodic safety net catches up.
            logger.error(
                "run %s: run_finished receiver %s raised %s\n%s",
                run_id,
                getattr(receiver, "__qualname__", receiver),
                type(result).__name__,
                "".join(traceback.format_tb(result.__traceback__)),
            )
