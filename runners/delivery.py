"""Stage 4, send or stream: the request to an OpenAI-compatible endpoint, with its retries.

The task thread runs the retry loop (backoff, Retry-After, one new OAuth2 token after a 401) and hands each
exchange to the worker's shared event loop (runners.event_loop), waiting on it without holding a database
connection. The exchange itself, its parsing and the classification of its failures are runners.transport's
(which parses with runners.completion). Custom handlers go out through runners.handler_delivery instead.
"""

import logging
import random
import time
from collections.abc import Sequence
from concurrent.futures import Future

from django.conf import settings
from django.utils import timezone

from runners import limits
from runners.cancellation import cancel_requested, cancelled_error
from runners.completion import Reply, StreamAccumulator
from runners.credentials import credentials_for
from runners.event_loop import submit
from runners.failures import FailureKind
from runners.live_output import live_output_publish
from runners.negotiation import negotiate
from runners.outcome import Outcome, attempt_record
from runners.redaction import scrub
from runners.request_building import RunTarget, build_completion_request
from runners.transport import Timeouts, TransportError, send_completion

logger = logging.getLogger(__name__)

# Seconds between writes of a streaming run's partial output (only when it changed): half of the Playground's
# 100 ms poll, so a chunk is on the page about 100 ms after the provider wrote it (bench/live_tokens.py).
LIVE_OUTPUT_INTERVAL = 0.05
# Seconds between reads of a run's cancel signal (runners.cancellation): one cache read per run in flight each time.
CANCEL_CHECK_INTERVAL = 0.25


def delivery_timeouts() -> Timeouts:
    return Timeouts(connect=float(settings.RUNNERS_CONNECT_TIMEOUT), request=float(settings.RUNNERS_REQUEST_TIMEOUT))


def retry_delay(error: TransportError, *, retry_number: int) -> float:
    """Seconds before retry `retry_number` (1-based): the provider's Retry-After, else backoff with jitter."""
    if error.retry_after is not None:
        return min(error.retry_after, float(settings.RUNNERS_RETRY_AFTER_MAX))
    ceiling = min(float(settings.RUNNERS_BACKOFF_MAX), float(settings.RUNNERS_BACKOFF_BASE) * 2 ** (retry_number - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not cryptography)


def wait_for_result(
    future: Future,
    *,
    deadline: float,
    run_id: str,
    accumulator: StreamAccumulator | None = None,
    secrets: Sequence[str] = (),
):
    """Wait for a coroutine submitted to the shared loop, publishing a stream's partial output (scrubbed of
    `secrets`: a provider may echo the request) meanwhile, and checking every CANCEL_CHECK_INTERVAL whether the run
    was stopped (runners.cancellation).

    Raises TransportError (timeout) at the run's deadline, TransportError (cancelled: the future cancelled, which
    closes the connection) when the run was stopped, both keeping a stream's output received so far, or what the
    coroutine raised.
    """
    published = ""
    next_cancel_check = time.monotonic() + CANCEL_CHECK_INTERVAL
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            future.cancel()
            error = TransportError(
                f"The run reached its time limit of {settings.RUNNERS_MAX_RUN_SECONDS} s (RUNNERS_MAX_RUN_SECONDS).",
                permanent=True,
                error_type=FailureKind.TIMEOUT,
            )
            if accumulator is not None and accumulator.began:
                error.keep_partial(accumulator.reply())
            raise error
        try:
            return future.result(timeout=min(LIVE_OUTPUT_INTERVAL if accumulator else CANCEL_CHECK_INTERVAL, remaining))
        except TimeoutError:
            if future.done():
                raise
        if time.monotonic() >= next_cancel_check:
            next_cancel_check = time.monotonic() + CANCEL_CHECK_INTERVAL
            if cancel_requested(run_id=run_id):
                future.cancel()  # cancels the task on the shared loop: httpx closes the connection
                error = cancelled_error()
                if accumulator is not None and accumulator.began:
                    error.keep_partial(accumulator.reply())
                raise error
        if accumulator is not None and accumulator.text != published:
            published = accumulator.text
            live_output_publish(run_id=run_id, text=scrub(published, secrets))


def deliver_completion(target: RunTarget, *, deadline: float) -> Outcome:
    """Send the run's request until it succeeds, fails for good, runs out of retries or of time (`deadline`, a
    time.monotonic() value). Never raises for a provider failure: the Outcome carries the error."""
    timeouts = delivery_timeouts()
    outcome = Outcome(request=build_completion_request(target, access_token=None).record())
    outcome.applied_rules = list(target.rules)
    try:
        credentials = credentials_for(target.integration)
    except TransportError as error:
        outcome.error = error
        return outcome
    retries_left = settings.RUNNERS_MAX_RETRIES
    refreshed_after_401 = False
    rejected_token = None
    while True:
        if outcome.attempts and not _window_place(target, deadline=deadline):
            outcome.error.message += " No place in the integration's requests_per_minute before the run's deadline."
            return outcome
        started, started_at = time.monotonic(), timezone.now()
        token = None
        try:
            token = credentials.token(timeouts=timeouts, deadline=deadline, rejected=rejected_token)
            if token is not None:
                outcome.secrets.append(token)
            outcome.reply = _exchange(target, outcome, access_token=token, timeouts=timeouts, deadline=deadline)
            number = len(outcome.attempts) + 1
            outcome.attempts.append(attempt_record(number, started_at, started, status_code=outcome.reply.status_code))
            return outcome
        except TransportError as error:
            number = len(outcome.attempts) + 1
            outcome.attempts.append(
                attempt_record(number, started_at, started, status_code=error.status_code, error_type=error.error_type)
            )
            outcome.error = error
            if (renegotiated := negotiate(target, outcome, error)) is not None:
                target = renegotiated  # once per run: the refused parameter renamed or dropped, at once
                continue
            if error.error_type == FailureKind.AUTH_REJECTED and credentials.refreshable:
                if not refreshed_after_401:
                    refreshed_after_401, rejected_token = True, token
                    continue
                error.message += " A newly fetched OAuth2 token was rejected too."
            delay = _delay_before_retry(
                error, attempts=len(outcome.attempts), retries_left=retries_left, deadline=deadline
            )
            if delay is None:
                return outcome
            retries_left -= 1
            time.sleep(delay)


def _exchange(
    target: RunTarget, outcome: Outcome, *, access_token: str | None, timeouts: Timeouts, deadline: float
) -> Reply:
    """One attempt: build the request (recorded on the outcome), send it on the shared loop, wait for the reply."""
    request = build_completion_request(target, access_token=access_token)
    outcome.request = request.record()
    outcome.dropped_parameters = request.dropped_parameters
    accumulator = StreamAccumulator() if target.stream else None
    secrets = [*target.secret_values(), *outcome.secrets]
    sent = time.monotonic()
    future = submit(
        send_completion(
            url=request.url,
            headers=request.headers.as_sent(),
            body=request.body,
            model=target.model_name,
            timeouts=timeouts,
            accumulator=accumulator,
            secrets=secrets,
            max_response_bytes=settings.RUNNERS_MAX_RESPONSE_BYTES,
            tls=target.integration.tls,
        )
    )
    reply = wait_for_result(future, deadline=deadline, run_id=target.run_id, accumulator=accumulator, secrets=secrets)
    outcome.latency_ms = round((time.monotonic() - sent) * 1000, 1)
    return reply


def _delay_before_retry(error: TransportError, *, attempts: int, retries_left: int, deadline: float) -> float | None:
    """Seconds to wait before trying again, or None to stop (saying why in the error's message)."""
    if error.permanent:
        return None
    if retries_left <= 0:
        if attempts > 1:
            error.message += f" Gave up after {attempts} attempts."
        return None
    delay = retry_delay(error, retry_number=settings.RUNNERS_MAX_RETRIES - retries_left + 1)
    if time.monotonic() + delay >= deadline:
        error.message += " No time was left for another attempt (RUNNERS_MAX_RUN_SECONDS)."
        return None
    return delay


def _window_place(target: RunTarget, *, deadline: float) -> bool:
    """A retry is one more request in the integration's requests_per_minute window (runners.limits.request_again);
    if Redis fails for a moment, go on without it (as runners.execution does for the first request)."""
    integration = target.integration
    try:
        return limits.request_again(
            integration_id=integration.integration_id,
            run_id=target.run_id,
            requests_per_minute=integration.requests_per_minute,
            deadline=deadline,
        )
    except Exception as exc:
        logger.warning("integration limits unavailable (%s): going on without them", type(exc).__name__)
        return True
