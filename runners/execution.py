"""Executing a run on a worker: claim it, call the provider (or custom handler) with retries, store the result once.

The task thread does the orchestration (database, cache, retries, backoff) and
hands each network exchange to the worker's shared event loop, waiting on it
without holding a database connection.
"""

import asyncio
import functools
import logging
import random
import time
import traceback
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from integrations.models import AuthenticationType, Integration
from operations.log_context import run_log_bind
from runners.auth import access_token, client_credentials
from runners.completion import MalformedCompletion, Reply, StreamAccumulator, parse_completion, reply_from_completion
from runners.custom_handlers import HandlerConfigError, call_handler, handler_instance
from runners.event_loop import submit
from runners.integration_cache import integration_config
from runners.metrics import observe_run_outcome
from runners.models import Run, RunStatus
from runners.parameters import to_wire
from runners.redaction import redact_url, scrub, scrub_json, shorten
from runners.request_building import RunTarget, build_completion_request, request_headers
from runners.signals import run_finished
from runners.transport import Timeouts, TransportError, send_completion

logger = logging.getLogger(__name__)

LIVE_OUTPUT_INTERVAL = 0.1  # seconds between writes of a streaming run's partial output
STORE_ATTEMPTS = 3


def live_output_key(run_id) -> str:
    return f"runners:live:{run_id}"


@dataclass
class Outcome:
    request: dict[str, Any] | None
    reply: Reply | None = None
    error: TransportError | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    dropped_parameters: list[str] | None = None
    secrets: list[str] = field(default_factory=list)
    # Only a streamed run publishes partial output to the cache (and has it to clear).
    streamed: bool = False


def run_execute(*, run_id: str) -> None:
    """Execute a queued run (the body of the execute_run task). Safe to call twice for the same run."""
    run = run_claim(run_id=run_id)
    if run is None:
        logger.info("run %s: not claimed (already taken or finished)", run_id)
        return
    run_log_bind(integration_id=run.integration_id, organization_id=run.organization_id)
    try:
        outcome = _execute_claimed(run)
    except Exception as exc:
        # Frames only: an exception's message might carry a secret.
        logger.error(
            "run %s: unexpected %s\n%s", run_id, type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__))
        )
        outcome = Outcome(
            request=None,
            error=TransportError(
                f"The runner failed unexpectedly ({type(exc).__name__}); see the worker log.",
                permanent=True,
                error_type="internal_error",
            ),
        )
    outcome.streamed = run.stream
    if run_store_outcome(
        run_id=run_id, claim=run.claim_token, outcome=outcome, job_id=str(run.job_id) if run.job_id else None
    ):
        observe_run_outcome(outcome=outcome, integration_name=run.integration_name)


@functools.cache
def _claim_sql(condition: str, vendor: str) -> str:
    """The claim statement for `condition`, built once per database vendor."""
    quote = connection.ops.quote_name
    table, integrations = quote(Run._meta.db_table), quote(Integration._meta.db_table)
    column = {
        name: quote(Run._meta.get_field(name).column)
        for name in ("id", "status", "started_at", "claim_token", "integration")
    }
    assignments = f"{column['status']} = %s, {column['started_at']} = %s, {column['claim_token']} = %s"
    where = condition.format(**column)
    # The integration's version comes back with the run: runners.integration_cache reuses what it read while it holds.
    version, pk = quote(Integration._meta.get_field("updated_at").column), quote(Integration._meta.pk.column)
    integration_version = f"(SELECT {version} FROM {integrations} WHERE {pk} = {table}.{column['integration']})"  # noqa: S608
    returning = f"*, {integration_version} AS integration_version"
    # Identifiers come from the models' metadata, values are parameters.
    return f"UPDATE {table} SET {assignments} WHERE {column['id']} = %s AND {where} RETURNING {returning}"  # noqa: S608


def run_claim(*, run_id: str) -> Run | None:
    """Take a queued run, or one whose worker was lost, and return it; None if another worker has it.

    A conditional UPDATE that returns the row (PostgreSQL and SQLite both have RETURNING): claiming and
    reading the run are one statement on the hot path. The returned run's claim_token is this worker's claim,
    and its integration_version the integration's updated_at.
    """
    field = Run._meta.get_field
    claim, now = uuid.uuid4(), timezone.now()

    def prepared(name, value):
        return field(name).get_db_prep_value(value, connection)

    setting = [RunStatus.RUNNING.value, prepared("started_at", now), prepared("claim_token", claim)]
    run_pk = Run._meta.pk.get_db_prep_value(run_id, connection)
    queued = _claim_sql("{status} = %s", connection.vendor)
    run = next(iter(Run.objects.raw(queued, [*setting, run_pk, RunStatus.QUEUED.value])), None)
    if run is not None:
        return run
    # A redelivered message whose first worker died: no live worker runs this long, so take it over.
    lost_before = now - timedelta(seconds=settings.RUNNERS_LOST_AFTER_SECONDS)
    lost = _claim_sql("{status} = %s AND {started_at} < %s", connection.vendor)
    run = next(
        iter(Run.objects.raw(lost, [*setting, run_pk, RunStatus.RUNNING.value, prepared("started_at", lost_before)])),
        None,
    )
    if run is not None:
        logger.warning("run %s: taking over from a lost worker", run_id)
    return run


def _failure(request, error_type: str, message: str) -> Outcome:
    return Outcome(request=request, error=TransportError(message, permanent=True, error_type=error_type))


def _execute_claimed(run: Run) -> Outcome:
    config = integration_config(run.integration_id, run.integration_version) if run.integration_id else None
    if config is None:
        return _failure(None, "integration_missing", "The integration of this run has been deleted.")
    supported_parameters = config.supported_parameters.get(run.model_name)
    if supported_parameters is None:
        return _failure(
            None,
            "model_missing",
            f'The model "{run.model_name}" is no longer part of integration "{config.name}".',
        )
    target = RunTarget(
        run_id=str(run.pk),
        job_id=str(run.job_id) if run.job_id else None,
        user_id=str(run.user_id) if run.user_id else None,
        project_id=str(run.project_id) if run.project_id else None,
        model_name=run.model_name,
        messages=run.messages,
        parameters=run.parameters,
        supported_parameters=supported_parameters,
        stream=run.stream,
        integration=config,
    )
    _release_database_connection()
    deadline = time.monotonic() + settings.RUNNERS_MAX_RUN_SECONDS
    outcome = _execute_handler(target, deadline) if target.integration.custom_llm_config else _deliver(target, deadline)
    outcome.dropped_parameters = target.split_parameters()[1]
    outcome.secrets.extend(target.secret_values())
    return outcome


def _release_database_connection() -> None:
    # Hand the connection back to the pool for the (long) network wait; Django reconnects for the result write.
    if not connection.in_atomic_block:
        connection.close()


def _timeouts() -> Timeouts:
    return Timeouts(connect=float(settings.RUNNERS_CONNECT_TIMEOUT), request=float(settings.RUNNERS_REQUEST_TIMEOUT))


def retry_delay(error: TransportError, *, retry_number: int) -> float:
    """Seconds before retry `retry_number` (1-based): the provider's Retry-After, else backoff with jitter."""
    if error.retry_after is not None:
        return min(error.retry_after, float(settings.RUNNERS_RETRY_AFTER_MAX))
    ceiling = min(float(settings.RUNNERS_BACKOFF_MAX), float(settings.RUNNERS_BACKOFF_BASE) * 2 ** (retry_number - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not cryptography)


def _attempt_record(number: int, started_at, started: float, *, status_code=None, error_type=None) -> dict:
    return {
        "attempt": number,
        "started_at": started_at.isoformat(),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "status_code": status_code,
        "error_type": error_type,
    }


def _deliver(target: RunTarget, deadline: float) -> Outcome:
    """The OpenAI-compatible path: token (if OAuth2), request, retries on transient failures, one refresh on 401."""
    timeouts = _timeouts()
    outcome = Outcome(request=build_completion_request(target, access_token=None).record())
    credentials = None
    if target.integration.authentication_type == AuthenticationType.OAUTH2:
        try:
            credentials = client_credentials(
                token_url=target.integration.token_url,
                token_document=target.integration.token_document,
                scope=target.integration.authentication_scope,
            )
        except TransportError as error:
            outcome.error = error
            return outcome
    retries_left = settings.RUNNERS_MAX_RETRIES
    refreshed_after_401 = False
    rejected_token = None
    while True:
        started, started_at = time.monotonic(), timezone.now()
        token = None
        status_code = None
        try:
            if credentials is not None:
                token = access_token(credentials, timeouts=timeouts, deadline=deadline, rejected=rejected_token)
                outcome.secrets.append(token)
            request = build_completion_request(target, access_token=token)
            outcome.request = request.record()
            accumulator = StreamAccumulator() if target.stream else None
            sent = time.monotonic()
            future = submit(
                send_completion(
                    url=request.url,
                    headers=request.headers.as_sent(),
                    body=request.body,
                    model=target.model_name,
                    timeouts=timeouts,
                    accumulator=accumulator,
                    secrets=[*target.secret_values(), *outcome.secrets],
                    max_response_bytes=settings.RUNNERS_MAX_RESPONSE_BYTES,
                )
            )
            outcome.reply = wait_for_result(
                future,
                deadline=deadline,
                run_id=target.run_id,
                accumulator=accumulator,
                secrets=[*target.secret_values(), *outcome.secrets],
            )
            outcome.latency_ms = round((time.monotonic() - sent) * 1000, 1)
            outcome.attempts.append(
                _attempt_record(len(outcome.attempts) + 1, started_at, started, status_code=outcome.reply.status_code)
            )
            return outcome
        except TransportError as error:
            status_code = error.status_code
            outcome.attempts.append(
                _attempt_record(
                    len(outcome.attempts) + 1, started_at, started, status_code=status_code, error_type=error.error_type
                )
            )
            outcome.error = error
            if error.error_type == "auth_rejected" and credentials is not None:
                if not refreshed_after_401:
                    refreshed_after_401 = True
                    rejected_token = token
                    continue
                error.message += " A newly fetched OAuth2 token was rejected too."
            if error.permanent:
                return outcome
            if retries_left <= 0:
                if len(outcome.attempts) > 1:
                    error.message += f" Gave up after {len(outcome.attempts)} attempts."
                return outcome
            delay = retry_delay(error, retry_number=settings.RUNNERS_MAX_RETRIES - retries_left + 1)
            if time.monotonic() + delay >= deadline:
                error.message += " No time was left for another attempt (RUNNERS_MAX_RUN_SECONDS)."
                return outcome
            retries_left -= 1
            time.sleep(delay)


def wait_for_result(
    future: Future,
    *,
    deadline: float,
    run_id: str,
    accumulator: StreamAccumulator | None = None,
    secrets: list[str] = (),
):
    """Wait for a coroutine submitted to the shared loop, publishing a stream's partial output (scrubbed of
    `secrets`: a provider may echo the request) meanwhile."""
    published = ""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            future.cancel()
            raise TransportError(
                f"The run reached its time limit of {settings.RUNNERS_MAX_RUN_SECONDS} s (RUNNERS_MAX_RUN_SECONDS).",
                permanent=True,
                error_type="timeout",
            )
        try:
            return future.result(timeout=min(LIVE_OUTPUT_INTERVAL, remaining) if accumulator else remaining)
        except TimeoutError:
            if future.done():
                raise
        if accumulator is not None and accumulator.text != published:
            published = accumulator.text
            cache.set(live_output_key(run_id), scrub(published, secrets), timeout=settings.RUNNERS_LOST_AFTER_SECONDS)


def _execute_handler(target: RunTarget, deadline: float) -> Outcome:
    """The custom handler path: load the CustomLLM subclass and await its acompletion, bounded by the timeout."""
    config = target.integration.custom_llm_config
    supported, _ = target.split_parameters()
    parameters = to_wire(supported)
    headers = request_headers(target, access_token=None, base={})
    record = {
        "url": redact_url(target.integration.endpoint),
        "method": "acompletion",
        "handler": f"{config.get('file_name')}:{config.get('class_name')}",
        "headers": headers.redacted(),
        "body": {"model": target.model_name, "messages": target.messages, **parameters},
    }
    outcome = Outcome(request=record)
    started, started_at = time.monotonic(), timezone.now()
    try:
        handler = handler_instance(config)
        token = None
        if target.integration.authentication_type == AuthenticationType.OAUTH2:
            credentials = client_credentials(
                token_url=target.integration.token_url,
                token_document=target.integration.token_document,
                scope=target.integration.authentication_scope,
            )
            token = access_token(credentials, timeouts=_timeouts(), deadline=deadline)
            outcome.secrets.append(token)
            headers = request_headers(target, access_token=token, base={})
        api_key = (
            target.integration.api_key_value
            if target.integration.authentication_type == AuthenticationType.API_KEY
            else token
        )
        future = submit(
            _handler_reply(
                handler,
                config["class_name"],
                model=target.model_name,
                messages=target.messages,
                api_base=target.integration.endpoint,
                parameters=parameters,
                headers=headers.as_sent(),
                api_key=api_key,
                timeout=float(settings.RUNNERS_REQUEST_TIMEOUT),
                secrets=[*target.secret_values(), *outcome.secrets],
            )
        )
        outcome.reply = wait_for_result(future, deadline=deadline, run_id=target.run_id)
        outcome.latency_ms = round((time.monotonic() - started) * 1000, 1)
        outcome.attempts.append(_attempt_record(1, started_at, started))
    except HandlerConfigError as exc:
        outcome.error = TransportError(str(exc), permanent=True, error_type="handler_config")
        outcome.attempts.append(_attempt_record(1, started_at, started, error_type="handler_config"))
    except TransportError as error:
        outcome.error = error
        outcome.attempts.append(_attempt_record(1, started_at, started, error_type=error.error_type))
    return outcome


async def _handler_reply(handler, class_name: str, *, timeout: float, secrets: list[str], **arguments) -> Reply:
    from litellm.types.utils import ModelResponse

    try:
        result = await asyncio.wait_for(call_handler(handler, timeout=timeout, **arguments), timeout)
    except TimeoutError:
        raise TransportError(
            f"The custom handler {class_name} did not answer within {timeout:g} s (RUNNERS_REQUEST_TIMEOUT).",
            permanent=True,
            error_type="timeout",
        ) from None
    except Exception as exc:
        message = shorten(str(exc), 300, secrets)
        raise TransportError(
            f"The custom handler {class_name} raised {type(exc).__name__}{': ' + message if message else ''}",
            permanent=True,
            error_type="handler_error",
        ) from None
    if isinstance(result, ModelResponse):
        data = result.model_dump()
    elif isinstance(result, dict):
        data = result
    else:
        raise TransportError(
            f"The custom handler {class_name} returned {type(result).__name__}, not a litellm ModelResponse.",
            permanent=True,
            error_type="handler_error",
        )
    try:
        return reply_from_completion(parse_completion(data))
    except MalformedCompletion as exc:
        raise TransportError(
            f"The custom handler {class_name} returned an incomplete ModelResponse ({exc}).",
            permanent=True,
            error_type="handler_error",
        ) from None


def run_store_outcome(*, run_id: str, claim: uuid.UUID, outcome: Outcome, job_id: str | None = None) -> bool:
    """Store the result if this worker still holds the claim (conditional UPDATE); False if it was discarded.

    A stored result is announced with runners.signals.run_finished (`job_id` is the run's job, passed along).
    """
    fields: dict[str, Any] = {
        "attempts": len(outcome.attempts),
        "attempt_log": outcome.attempts,
        "request": scrub_json(outcome.request, outcome.secrets) if outcome.request else None,
        "latency_ms": outcome.latency_ms,
        "finished_at": timezone.now(),
    }
    if outcome.dropped_parameters is not None:
        fields["dropped_parameters"] = outcome.dropped_parameters
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
        cache.delete(live_output_key(run_id))
    if not stored:
        logger.warning("run %s: result discarded, the run was reaped or taken over meanwhile", run_id)
        return False
    _announce_finished(run_id=run_id, status=fields["status"], job_id=job_id)
    return True


def _announce_finished(*, run_id: str, status: str, job_id: str | None) -> None:
    for receiver, result in run_finished.send_robust(sender=Run, run_id=str(run_id), status=str(status), job_id=job_id):
        if isinstance(result, Exception):
            # Frames only, as above; the receiver's periodic safety net catches up.
            logger.error(
                "run %s: run_finished receiver %s raised %s\n%s",
                run_id,
                getattr(receiver, "__qualname__", receiver),
                type(result).__name__,
                "".join(traceback.format_tb(result.__traceback__)),
            )
