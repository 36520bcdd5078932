"""Stage 4 for custom handlers: load the CustomLLM subclass and await its acompletion, bounded by the timeout.

One attempt (a handler makes its own HTTP calls and retries); its answer is parsed like a provider's
(runners.completion) and every failure is a TransportError of a FailureKind.
"""

import asyncio
import time

import httpx
from django.conf import settings
from django.utils import timezone

from runners.completion import MalformedCompletion, Reply, parse_completion, reply_from_completion
from runners.credentials import credentials_for, handler_api_key
from runners.custom_handlers import HandlerConfigError, call_handler, handler_instance
from runners.delivery import delivery_timeouts, wait_for_result
from runners.event_loop import http_client, submit
from runners.failures import FailureKind
from runners.outcome import Outcome, attempt_record
from runners.parameters import to_wire
from runners.redaction import redact_url, shorten
from runners.request_building import RunTarget, request_headers
from runners.tls import TLSConfig
from runners.transport import TransportError


def deliver_to_handler(target: RunTarget, *, deadline: float) -> Outcome:
    """Call the integration's custom handler once; never raises for a handler failure (the Outcome has it)."""
    config = target.integration.custom_llm_config
    supported, _ = target.split_parameters()
    parameters = to_wire(supported, target.parameter_names)
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
        token = credentials_for(target.integration).token(timeouts=delivery_timeouts(), deadline=deadline)
        if token is not None:
            outcome.secrets.append(token)
            headers = request_headers(target, access_token=token, base={})
        future = submit(
            _handler_reply(
                handler,
                config["class_name"],
                model=target.model_name,
                messages=target.messages,
                api_base=target.integration.endpoint,
                parameters=parameters,
                headers=headers.as_sent(),
                api_key=handler_api_key(target.integration, token=token),
                timeout=float(settings.RUNNERS_REQUEST_TIMEOUT),
                secrets=[*target.secret_values(), *outcome.secrets],
                tls=target.integration.tls,
            )
        )
        outcome.reply = wait_for_result(future, deadline=deadline, run_id=target.run_id)
        outcome.latency_ms = round((time.monotonic() - started) * 1000, 1)
        outcome.attempts.append(attempt_record(1, started_at, started))
    except HandlerConfigError as exc:
        outcome.error = TransportError(str(exc), permanent=True, error_type=FailureKind.HANDLER_CONFIG)
        outcome.attempts.append(attempt_record(1, started_at, started, error_type=FailureKind.HANDLER_CONFIG))
    except TransportError as error:
        outcome.error = error
        outcome.attempts.append(attempt_record(1, started_at, started, error_type=error.error_type))
    return outcome


class _LentClient(httpx.AsyncBaseTransport):
    """A worker's shared client lent to a handler's own httpx.AsyncClient: closing that one leaves it open."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True)

    async def aclose(self) -> None:
        pass


def handler_http_client(tls: TLSConfig | None, *, timeout: float) -> httpx.AsyncClient:
    """The client a handler gets as `http_client`: the worker's client for the integration's `tls` settings (or the
    shared one), with the run's timeout. Only on the shared loop."""
    return httpx.AsyncClient(
        transport=_LentClient(http_client(tls)), timeout=timeout, follow_redirects=False, trust_env=False
    )


async def _handler_reply(
    handler, class_name: str, *, timeout: float, secrets: list[str], tls: TLSConfig | None, **arguments
) -> Reply:
    from litellm.types.utils import ModelResponse

    client = handler_http_client(tls, timeout=timeout)
    try:
        result = await asyncio.wait_for(
            call_handler(handler, timeout=timeout, http_client=client, **arguments), timeout
        )
    except TimeoutError:
        raise TransportError(
            f"The custom handler {class_name} did not answer within {timeout:g} s (RUNNERS_REQUEST_TIMEOUT).",
            permanent=True,
            error_type=FailureKind.TIMEOUT,
        ) from None
    except Exception as exc:
        message = shorten(str(exc), 300, secrets)
        raise TransportError(
            f"The custom handler {class_name} raised {type(exc).__name__}{': ' + message if message else ''}",
            permanent=True,
            error_type=FailureKind.HANDLER_ERROR,
        ) from None
    finally:
        await client.aclose()  # the handler's wrapper only: the worker's client stays open
    if isinstance(result, ModelResponse):
        data = result.model_dump()
    elif isinstance(result, dict):
        data = result
    else:
        raise TransportError(
            f"The custom handler {class_name} returned {type(result).__name__}, not a litellm ModelResponse.",
            permanent=True,
            error_type=FailureKind.HANDLER_ERROR,
        )
    try:
        return reply_from_completion(parse_completion(data))
    except MalformedCompletion as exc:
        raise TransportError(
            f"The custom handler {class_name} returned an incomplete ModelResponse ({exc}).",
            permanent=True,
            error_type=FailureKind.HANDLER_ERROR,
        ) from None
