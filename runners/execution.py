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

from django.conf import settings
from django.db import connection

from core.log_context import run_log_bind
from runners.answer_checks import answer_failure
from runners.building import run_target_build
from runners.claiming import run_claim
from runners.delivery import deliver_completion
from runners.dispatch import runs_dispatch_after
from runners.failures import FailureKind
from runners.handler_delivery import deliver_to_handler
from runners.metrics import observe_run_outcome
from runners.models import Run
from runners.outcome import Outcome
from runners.storing import run_store_outcome
from runners.transport import TransportError

logger = logging.getLogger(__name__)


def run_execute(*, run_id: str) -> None:
    """Execute a queued run (the body of the execute_run task). Safe to call twice for the same run.

    Never raises for a failure of the provider or of the runner itself: each ends as a failed Run. Raises
    OperationalError or InterfaceError only if the database stays unreachable (the task retries).
    """
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
        message = f"The runner failed unexpectedly ({type(exc).__name__}); see the worker log."
        outcome = Outcome.failed(FailureKind.INTERNAL_ERROR, message)
    outcome.streamed = run.stream
    job_id = str(run.job_id) if run.job_id else None
    if run_store_outcome(run_id=run_id, claim=run.claim_token, outcome=outcome, job_id=job_id):
        observe_run_outcome(outcome=outcome, integration_name=run.integration_name)
    runs_dispatch_after(run)


def _execute_claimed(run: Run) -> Outcome:
    try:
        target = run_target_build(run=run)
    except TransportError as error:
        return Outcome(request=None, error=error)
    _release_database_connection()
    deadline = time.monotonic() + settings.RUNNERS_MAX_RUN_SECONDS
    deliver = deliver_to_handler if target.integration.custom_llm_config else deliver_completion
    outcome = deliver(target, deadline=deadline)
    if outcome.reply is not None and (empty := answer_failure(outcome.reply)):
        outcome.reply, outcome.error = None, empty
        if outcome.attempts:
            outcome.attempts[-1]["error_type"] = empty.error_type
    if outcome.dropped_parameters is None:  # a negotiated retry sets what it finally left out
        outcome.dropped_parameters = target.split_parameters()[1]
    outcome.secrets.extend(target.secret_values())
    return outcome


def _release_database_connection() -> None:
    # Hand the connection back to the pool for the (long) network wait; Django reconnects for the result write.
    if not connection.in_atomic_block:
        connection.close()
