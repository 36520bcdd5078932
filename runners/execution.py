"""Executing a run on a worker: a pipeline of stages, one module each.

1. claim        runners.claiming          one conditional UPDATE ... RETURNING takes the run and reads it
2. build        runners.building          the RunTarget: the run and its integration (cached per worker)
3. credentials  runners.credentials       OAuth2 tokens (API keys and static headers come with the integration)
4. send/stream  runners.delivery          the request on the shared event loop, retries, one refresh after a 401;
                runners.handler_delivery  or the integration's custom handler
5. parse        runners.completion        the answer or its stream into a Reply; runners.transport classifies
                                          every failure as a runners.failures.FailureKind
6. store        runners.storing           one conditional UPDATE, if this worker still holds the claim

A run costs the database two statements on the hot path: the claim and the store.
"""

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.log_context import run_log_bind
from runners import limits
from runners.answer_checks import answer_failure
from runners.building import run_target_build
from runners.claiming import run_claim, run_unclaim
from runners.delivery import deliver_completion
from runners.dispatch import PRIORITY, runs_dispatch_after
from runners.failures import FailureKind
from runners.handler_delivery import deliver_to_handler
from runners.metrics import observe_run_outcome
from runners.models import Run, WorkClass
from runners.outcome import Outcome
from runners.storing import run_store_outcome
from runners.transport import TransportError

logger = logging.getLogger(__name__)


def run_execute(*, run_id: str, deferrals: int = 0) -> None:
    """Execute a queued run (the body of the execute_run task). Safe to call twice for the same run.

    A run whose integration has no capacity left (runners.limits) is given back to the queue and published again
    with a countdown (`deferrals` counts how often already): it holds no worker thread while it waits. Never raises
    for a failure of the provider or of the runner itself: each ends as a failed Run. Raises
    OperationalError or InterfaceError only if the database stays unreachable (the task retries).
    """
    run = run_claim(run_id=run_id)
    if run is None:
        logger.info("run %s: not claimed (already taken or finished)", run_id)
        return
    run_log_bind(integration_id=run.integration_id, organization_id=run.organization_id)
    try:
        outcome = _execute_claimed(run, deferrals=deferrals)
    except Exception as exc:
        # Frames only: an exception's message might carry a secret.
        logger.error(
            "run %s: unexpected %s\n%s", run_id, type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__))
        )
        message = f"The runner failed unexpectedly ({type(exc).__name__}); see the worker log."
        outcome = Outcome.failed(FailureKind.INTERNAL_ERROR, message)
    if isinstance(outcome, Deferred):
        _defer(run, outcome.retry_in, deferrals=deferrals + 1)
        return
    outcome.streamed = run.stream
    job_id = str(run.job_id) if run.job_id else None
    stored = run_store_outcome(
        run_id=run_id, claim=run.claim_token, outcome=outcome, job_id=job_id, work_class=run.work_class
    )
    if stored:
        observe_run_outcome(outcome=outcome, integration_name=run.integration_name)
    runs_dispatch_after(run)


@dataclass(frozen=True)
class Deferred:
    """The run's integration had no capacity: try again in `retry_in` seconds."""

    retry_in: float


def _execute_claimed(run: Run, *, deferrals: int = 0) -> Outcome | Deferred:
    try:
        target = run_target_build(run=run)
    except TransportError as error:
        return Outcome(request=None, error=error)
    integration, run_id = target.integration, str(run.pk)
    decision = _capacity(integration, run_id, deferrals)
    if not decision.granted:
        return Deferred(decision.retry_in)
    _release_database_connection()
    deadline = time.monotonic() + settings.RUNNERS_MAX_RUN_SECONDS
    deliver = deliver_to_handler if integration.custom_llm_config else deliver_completion
    outcome = None
    try:
        outcome = deliver(target, deadline=deadline)
    finally:
        attempts = outcome.attempts if outcome is not None else []
        _limits_call(
            limits.capacity_finish,
            integration_id=integration.integration_id,
            run_id=run_id,
            decision=decision,
            max_concurrency=integration.max_concurrency,
            rate_limited=any(attempt.get("status_code") == 429 for attempt in attempts) if attempts else None,
        )
    if outcome.reply is not None and (empty := answer_failure(outcome.reply)):
        outcome.reply, outcome.error = None, empty
        if outcome.attempts:
            outcome.attempts[-1]["error_type"] = empty.error_type
    if outcome.dropped_parameters is None:  # a negotiated retry sets what it finally left out
        outcome.dropped_parameters = target.split_parameters()[1]
    outcome.secrets.extend(target.secret_values())
    return outcome


def _capacity(integration, run_id: str, deferrals: int) -> limits.Decision:
    decision = _limits_call(
        limits.capacity_acquire,
        integration_id=integration.integration_id,
        run_id=run_id,
        max_concurrency=integration.max_concurrency,
        requests_per_minute=integration.requests_per_minute,
        deferrals=deferrals,
    )
    return decision or limits.Decision(granted=True)


def _limits_call(function, **kwargs):
    # Limits protect providers; Redis failing for a moment must not fail runs: go on without them (logged).
    try:
        return function(**kwargs)
    except Exception as exc:
        logger.warning("integration limits unavailable (%s): going on without them", type(exc).__name__)
        return None


def _defer(run: Run, retry_in: float, *, deferrals: int) -> None:
    """Give the claim back and publish the run again in `retry_in` seconds, with its class's priority."""
    from runners.tasks import execute_run

    until = timezone.now() + timedelta(seconds=retry_in)
    if not run_unclaim(run_id=str(run.pk), claim=run.claim_token, deferred_until=until):
        return
    logger.info("run %s: integration at its limit, deferred %.2f s", run.pk, retry_in)
    execute_run.apply_async(
        (str(run.pk),), {"deferrals": deferrals}, countdown=retry_in, priority=PRIORITY[WorkClass(run.work_class)]
    )


def _release_database_connection() -> None:
    # Hand the connection back to the pool for the (long) network wait; Django reconnects for the result write.
    if not connection.in_atomic_block:
        connection.close()
