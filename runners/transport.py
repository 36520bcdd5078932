"""The one HTTP transport of the runners: send a Chat Completions request, classify every failure.

Every failure is a TransportError with a secret-free message, an error_type the
Run records, and `permanent` (True: retrying cannot help). Coroutines here run
on the shared event loop (runners.event_loop).
"""

import asyncio
import email.utils
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from core.http_fields import header_value_problem
from core.network_policy import BlockedAddress, url_blocked_reason
from runners.completion import (
    MalformedCompletion,
    Reply,
    StreamAccumulator,
    parse_chunk,
    parse_completion,
    reply_from_completion,
)
from runners.event_loop import http_client
from runners.event_stream import EventStreamTooLarge, aiter_events
from runners.failures import FailureKind
from runners.provider_errors import EmbeddedError, embedded_error
from runners.redaction import display_url, host_and_port, shorten
from runners.storable import load_json
from runners.tls import TLSConfig, tls_failure_message

MAX_DETAIL_LENGTH = 300


class TransportError(Exception):
    """A run's failure: a secret-free `message`, its FailureKind, and `permanent` (True: retrying cannot help)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        error_type: FailureKind | str,
        status_code: int | None = None,
        retry_after: float | None = None,
        partial: Reply | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.error_type = FailureKind(error_type)  # ValueError for a kind that is not one
        self.status_code = status_code
        self.retry_after = retry_after
        # The output received before the failure (a stream cut short), stored on the failed run.
        self.partial = partial

    def keep_partial(self, partial: Reply) -> "TransportError":
        """Attach the output received so far; the provider had begun answering, so the request is not sent again
        (it could bill and generate twice)."""
        self.partial = partial
        self.permanent = True
        self.message += " The output received until then is kept; the request was not sent again."
        return self
        # The body of a refused request (4xx), for runners.negotiation; never stored or shown.
        self.provider_body: bytes | None = None


@dataclass(frozen=True)
class Timeouts:
    connect: float
    request: float

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.request, connect=self.connect, pool=self.connect)


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def connection_failure(
    exc: Exception, url: str, timeouts: Timeouts, *, what: str = "the provider", tls: TLSConfig | None = None
) -> TransportError:
    """A TransportError for an httpx exception raised before a response arrived (`tls`: the integration's own TLS
    settings, which the advice on a failed handshake depends on)."""
    target = host_and_port(url)
    host = target.rsplit(":", 1)[0]
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportError(
            f"Connecting to {what} at {target} timed out after {timeouts.connect:g} s.",
            permanent=False,
            error_type=FailureKind.TIMEOUT,
        )
    if isinstance(exc, httpx.ReadTimeout):
        return TransportError(
            f"{what.capitalize()} sent nothing for {timeouts.request:g} s (RUNNERS_REQUEST_TIMEOUT, the longest wait "
            "for the first byte and between two chunks).",
            permanent=False,
            error_type=FailureKind.TIMEOUT,
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"{what.capitalize()} did not answer within {timeouts.request:g} s (RUNNERS_REQUEST_TIMEOUT).",
            permanent=False,
            error_type=FailureKind.TIMEOUT,
        )
    if isinstance(exc, httpx.ProxyError):
        return TransportError(
            f"The outbound proxy (RUNNERS_HTTPS_PROXY) did not open a connection to {target} "
            f"({shorten(str(exc), 100, ())}): ask the operator whether the proxy lets the runners reach it.",
            permanent=False,
            error_type=FailureKind.CONNECTION_ERROR,
        )
    for cause in _exception_chain(exc):
        if isinstance(cause, BlockedAddress):
            return TransportError(
                f"{cause} The runners never connect to link-local or cloud metadata addresses, nor to private "
                "ones when RUNNERS_BLOCK_PRIVATE_NETWORKS is true (except RUNNERS_ALLOWED_NETWORKS).",
                permanent=True,
                error_type=FailureKind.BLOCKED_ADDRESS,
            )
        if isinstance(cause, ssl.SSLError):
            return TransportError(
                tls_failure_message(
                    cause,
                    target,
                    has_ca_bundle=bool(tls and tls.ca_bundle),
                    has_client_certificate=bool(tls and tls.client_certificate),
                ),
                permanent=True,
                error_type=FailureKind.TLS_ERROR,
            )
        if isinstance(cause, socket.gaierror):
            return TransportError(
                f'The host name "{host}" could not be resolved (DNS failure): check the URL.',
                permanent=True,
                error_type=FailureKind.DNS_FAILURE,
            )
        if isinstance(cause, ConnectionRefusedError):
            return TransportError(
                f"Connection to {target} was refused: is {what} running, and is the port in the URL right?",
                permanent=False,
                error_type=FailureKind.CONNECTION_REFUSED,
            )
    return TransportError(
        f"The connection to {target} failed ({type(exc).__name__}).",
        permanent=False,
        error_type=FailureKind.CONNECTION_ERROR,
    )


def invalid_url(url: str) -> TransportError:
    """A URL httpx cannot parse; some are blocked addresses in a form it refuses (octal, 0251.0376.0251.0376)."""
    reason = url_blocked_reason(url)
    if reason:
        return TransportError(reason, permanent=True, error_type=FailureKind.BLOCKED_ADDRESS)
    return TransportError(f"{display_url(url)} is not a valid URL.", permanent=True, error_type=FailureKind.INVALID_URL)


def refused_header(headers: dict[str, str]) -> TransportError | None:
    """A permanent invalid_header failure naming the first header whose value the HTTP client would refuse
    (core.http_fields: what h11 and httpx refuse, and RFC 9110's control characters), or None. The document is
    checked at save; this catches what was stored before that and what arrives at run time (an access token)."""
    for name, value in headers.items():
        if problem := header_value_problem(value):
            return TransportError(
                f'The request header "{name}" cannot be sent as it is: {problem}',
                permanent=True,
                error_type=FailureKind.INVALID_HEADER,
            )
    return None


def client_refused_header() -> TransportError:
    """The same failure when the HTTP client itself refused a header (its message quotes the value: not kept)."""
    return TransportError(
        "The HTTP client refused a request header value (a character HTTP does not allow, or white space at either "
        "end): check the integration's api_key_value and headers.",
        permanent=True,
        error_type=FailureKind.INVALID_HEADER,
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def provider_detail(body: bytes, content_type: str, *, secrets: Sequence[str] = ()) -> str | None:
    """The provider's own error message, when it is JSON: scrubbed of `secrets`, then cut to MAX_DETAIL_LENGTH."""
    if "json" not in content_type:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    message: Any = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("error_description") or error.get("code")
        elif isinstance(error, str):
            message = data.get("error_description") or error
        else:
            message = data.get("message") or data.get("detail")
    if not isinstance(message, str) or not message.strip():
        return None
    return shorten(message, MAX_DETAIL_LENGTH, secrets)


def status_failure(
    status: int, body: bytes, headers: httpx.Headers, *, url: str, model: str, secrets: Sequence[str] = ()
) -> TransportError:
    """A TransportError for a non-2xx answer from a Chat Completions endpoint (the provider's words scrubbed)."""
    detail = provider_detail(body, headers.get("content-type", ""), secrets=secrets)
    said = f': "{detail}"' if detail else ""
    if status in (401, 403):
        return TransportError(
            f"The provider rejected the credentials (HTTP {status}){said}. Check the authentication settings "
            "of the integration (header name, key or token, scope).",
            permanent=True,
            error_type=FailureKind.AUTH_REJECTED,
            status_code=status,
        )
    if status == 404:
        return TransportError(
            f'The provider answered 404 Not Found for model "{model}" at {display_url(url)}{said}: check the model '
            "name (it is sent verbatim) and that the endpoint is the API's base URL.",
            permanent=True,
            error_type=FailureKind.MODEL_NOT_FOUND,
            status_code=status,
        )
    if status == 429:
        return TransportError(
            f"The provider is rate limiting requests (HTTP 429){said}.",
            permanent=False,
            error_type=FailureKind.RATE_LIMITED,
            status_code=status,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if status >= 500:
        return TransportError(
            f"The provider failed with HTTP {status}{said}.",
            permanent=False,
            error_type=FailureKind.PROVIDER_ERROR,
            status_code=status,
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if 300 <= status < 400:
        location = display_url(headers.get("location", "")) if headers.get("location") else "another URL"
        return TransportError(
            f"The provider redirected the request (HTTP {status}) to {location}: use the final URL as the endpoint.",
            permanent=True,
            error_type=FailureKind.BAD_REQUEST,
            status_code=status,
        )
    error = TransportError(
        f"The provider refused the request with HTTP {status}{said}.",
        permanent=True,
        error_type=FailureKind.BAD_REQUEST,
        status_code=status,
    )
    error.provider_body = body
    return error


def _json_body(body: bytes, content_type: str, status: int) -> Any:
    kind = content_type.split(";")[0].strip() or "no content type"
    try:
        return load_json(body)
    except ValueError:
        hint = " (an HTML page: is the endpoint the API's base URL, not a web page?)" if "html" in kind else ""
        raise TransportError(
            f"The provider answered HTTP {status} with a body that is not JSON ({kind}){hint}.",
            permanent=True,
            error_type=FailureKind.INVALID_RESPONSE,
            status_code=status,
        ) from None


def embedded_failure(
    error: EmbeddedError, *, status: int, secrets: Sequence[str] = (), where: str = "", partial: Reply | None = None
) -> TransportError:
    """A TransportError for an error object sent instead of an answer (runners.provider_errors), classified like
    the HTTP status its code stands for: 429 and 5xx are retried, others are permanent."""
    detail = shorten(error.message, MAX_DETAIL_LENGTH, secrets) if error.message else None
    named = f" ({shorten(error.label, MAX_DETAIL_LENGTH, secrets)})" if error.label else ""
    message = f"The provider reported an error{where} with HTTP {status}{named}" + (f': "{detail}".' if detail else ".")
    meant = error.status
    if meant == 429:
        kind, permanent = FailureKind.RATE_LIMITED, False
    elif meant is not None and meant >= 500:
        kind, permanent = FailureKind.PROVIDER_ERROR, False
    elif meant in (401, 403):
        kind, permanent = FailureKind.AUTH_REJECTED, True
    elif meant == 404:
        kind, permanent = FailureKind.MODEL_NOT_FOUND, True
    elif meant is not None:
        kind, permanent = FailureKind.BAD_REQUEST, True
    else:
        kind, permanent = FailureKind.PROVIDER_ERROR, True
    failure = TransportError(message, permanent=permanent, error_type=kind, status_code=status)
    return failure.keep_partial(partial) if partial is not None else failure


def _completion_reply(body: bytes, content_type: str, status: int, *, secrets: Sequence[str] = ()) -> Reply:
    data = _json_body(body, content_type, status)
    if error := embedded_error(data):
        raise embedded_failure(error, status=status, secrets=secrets, where=" in its answer")
    try:
        return reply_from_completion(parse_completion(data), status_code=status)
    except MalformedCompletion as exc:
        raise TransportError(
            f"The provider's answer is not a Chat Completion ({exc}).",
            permanent=True,
            error_type=FailureKind.MALFORMED_COMPLETION,
            status_code=status,
        ) from None


def too_large(limit: int, *, status: int | None, what: str = "answer") -> TransportError:
    return TransportError(
        f"The provider's {what} is larger than {limit:,} bytes (RUNNERS_MAX_RESPONSE_BYTES): the rest was not read.",
        permanent=True,
        error_type=FailureKind.RESPONSE_TOO_LARGE,
        status_code=status,
    )


async def read_bounded(response: httpx.Response, limit: int, *, began: Callable[[], None] | None = None) -> bytes:
    """The body of `response`, or TransportError(response_too_large) as soon as more than `limit` bytes arrive.

    A Content-Length above the limit is refused before reading; a body without one is counted as it streams in.
    `began` is called when the first bytes arrive.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit, status=response.status_code)
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        if began is not None and not size:
            began()
        size += len(chunk)
        if size > limit:
            raise too_large(limit, status=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_event_stream(
    response: httpx.Response, accumulator: StreamAccumulator, *, limit: int, secrets: Sequence[str] = ()
) -> Reply:
    """Fold a text/event-stream answer into a Reply (runners.event_stream parses the events).

    `[DONE]` ends it, as does the end of the stream without one. A failure once chunks have arrived keeps them
    (TransportError.partial) and is not retried.
    """
    status = response.status_code

    def failed(error: TransportError) -> TransportError:
        return error.keep_partial(accumulator.reply(status_code=status)) if accumulator.began else error

    try:
        async for event in aiter_events(response, limit=limit):
            if event.data.strip() == "[DONE]":
                break
            mid_stream = " in the middle of the stream" if accumulator.began else " in its event stream"
            try:
                payload = load_json(event.data)
            except ValueError:
                if event.event != "error":
                    raise failed(
                        TransportError(
                            "The provider's event stream contained data that is not JSON.",
                            permanent=True,
                            error_type=FailureKind.INVALID_RESPONSE,
                            status_code=status,
                        )
                    ) from None
                payload = {"error": event.data}  # an `event: error` whose data is plain text
            error = embedded_error(payload)
            if error is None and event.event == "error":
                error = EmbeddedError(None, None, None)
            if error is not None:
                raise failed(embedded_failure(error, status=status, secrets=secrets, where=mid_stream))
            try:
                accumulator.add(parse_chunk(payload))
            except MalformedCompletion as exc:
                raise failed(
                    TransportError(
                        f"The provider's stream is not made of Chat Completion chunks ({exc}).",
                        permanent=True,
                        error_type=FailureKind.MALFORMED_COMPLETION,
                        status_code=status,
                    )
                ) from None
    except EventStreamTooLarge:
        raise failed(too_large(limit, status=status, what="event stream")) from None
    return accumulator.reply(status_code=status)


async def send_completion(
    *,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    model: str,
    timeouts: Timeouts,
    accumulator: StreamAccumulator | None = None,
    secrets: Sequence[str] = (),
    max_response_bytes: int = 8 * 1024 * 1024,
    tls: TLSConfig | None = None,
) -> Reply:
    """POST one Chat Completions request; `accumulator` set means a streamed answer is expected; `tls`: the
    integration's own TLS settings (runners.tls), None for the shared client.

    `secrets` are scrubbed from the provider's words before they are shortened into an error message. No more
    than `max_response_bytes` of the answer are read (TransportError response_too_large beyond).
    """
    content = json.dumps(body).encode()
    if refused := refused_header(headers):
        raise refused
    answering = False  # a 2xx answer's body has begun: from then on the request is never sent again

    def begin() -> None:
        nonlocal answering
        answering = True

    async def exchange() -> Reply:
        client = http_client(tls)
        async with client.stream(
            "POST", url, headers=headers, content=content, timeout=timeouts.for_httpx()
        ) as response:
            content_type = response.headers.get("content-type", "")
            if response.status_code >= 300:
                raw = await read_bounded(response, max_response_bytes)
                raise status_failure(response.status_code, raw, response.headers, url=url, model=model, secrets=secrets)
            if accumulator is not None and "text/event-stream" in content_type:
                return await _read_event_stream(response, accumulator, limit=max_response_bytes, secrets=secrets)
            # Also the answer of a provider that ignores "stream": true.
            body = await read_bounded(response, max_response_bytes, began=begin)
            return _completion_reply(body, content_type, response.status_code, secrets=secrets)

    # No overall timeout here: httpx's read timeout (RUNNERS_REQUEST_TIMEOUT) bounds the wait for the first byte
    # and each gap between chunks, and the run's deadline (RUNNERS_MAX_RUN_SECONDS, runners.delivery) the whole.
    try:
        return await exchange()
    except httpx.InvalidURL:
        raise invalid_url(url) from None
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        raise client_refused_header() from None
    except (httpx.HTTPError, ssl.SSLError) as exc:  # httpcore lets a TLS alert read after the handshake through
        error = connection_failure(exc, url, timeouts, tls=tls)
        if accumulator is not None and accumulator.began:
            raise error.keep_partial(accumulator.reply()) from None
        if answering:
            error.permanent = True
            error.message += " The provider had begun answering, so the request was not sent again."
        raise error from None


@dataclass
class FormAnswer:
    status_code: int
    headers: httpx.Headers
    body: bytes


async def post_form(
    url: str,
    *,
    data: dict[str, str],
    headers: dict[str, str],
    timeouts: Timeouts,
    what: str,
    max_response_bytes: int = 1024 * 1024,
    tls: TLSConfig | None = None,
) -> FormAnswer:
    """POST a form (the OAuth2 token request); connection failures and answers over `max_response_bytes` become
    TransportErrors."""

    async def exchange() -> FormAnswer:
        client = http_client(tls)
        request = client.build_request("POST", url, data=data, headers=headers, timeout=timeouts.for_httpx())
        response = await client.send(request, stream=True)
        try:
            body = await read_bounded(response, max_response_bytes)
        finally:
            await response.aclose()
        return FormAnswer(response.status_code, response.headers, body)

    try:
        return await asyncio.wait_for(exchange(), timeouts.request)
    except TimeoutError:
        raise TransportError(
            f"{what.capitalize()} did not answer within {timeouts.request:g} s.",
            permanent=False,
            error_type=FailureKind.TIMEOUT,
        ) from None
    except httpx.InvalidURL:
        raise invalid_url(url) from None
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        raise client_refused_header() from None
    except (httpx.HTTPError, ssl.SSLError) as exc:
        raise connection_failure(exc, url, timeouts, what=what, tls=tls) from None
