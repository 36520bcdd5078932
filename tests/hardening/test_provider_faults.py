"""Every way a provider call can fail, in one table: the run's terminal status, error_type, attempts and message.

The table doubles as documentation (README, "Fault tolerance and security"). Each row is executed by the runner
(run_execute, as the worker's task calls it) against the real test provider, token server or handler on
127.0.0.1. Messages are exact, or a prefix when they end with "…". {port} is the port of the fault's endpoint,
{url} the provider's base URL. Settings for every row: RUNNERS_MAX_RETRIES=2 and short backoff
(tests/runners/conftest.py), plus the row's own.
"""

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from integrations.models import Integration
from tests.fixtures.servers import Reply
from tests.runners.conftest import provider_document
from tests.runners.test_custom_handlers import CONFIG, handler_document, handlers_dir, write_handler  # noqa: F401

HANGING_HANDLER = """
    import asyncio
    from litellm import CustomLLM


    class Hangs(CustomLLM):
        async def acompletion(self, *args, **kwargs):
            await asyncio.Event().wait()
    """
RAISES_IN_INIT = """
    from litellm import CustomLLM


    class BrokenInit(CustomLLM):
        def __init__(self, **kwargs):
            raise RuntimeError("cannot reach the licence server")
    """


@dataclass
class Fault:
    kind: str
    status: str
    error_type: str | None
    attempts: int
    message: str
    # setup(ctx) -> document; ctx has .openai, .oauth2, .handlers, .port (set by setup), .db_changes
    setup: Callable = field(repr=False, default=None)
    settings: dict = field(default_factory=dict)


class Context:
    def __init__(self, openai_server, oauth2_server, handlers):
        self.openai, self.oauth2, self.handlers = openai_server, oauth2_server, handlers
        self.port = int(openai_server.url.split(":")[2].split("/")[0])
        self.db_changes: dict = {}
        self.keep: list = []

    def provider(self, model="echo-model", **overrides):
        return provider_document(self.openai.url, models=[model], **overrides)

    def closed_port(self) -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        return self.port

    def blackhole_port(self) -> int:
        """A listening socket whose accept queue is full: connection attempts get no answer (a connect timeout)."""
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        self.port = server.getsockname()[1]
        self.keep.append(server)
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.keep.append(filler)
        return self.port

    def oauth2_document(self, model="echo-model", **overrides):
        document = self.oauth2.document(self.openai.url, **overrides)
        document["model_properties"] = [{"name": model, "supported_parameters": ["max_tokens"]}]
        return document

    def enqueue_reply(self, *replies, document=None):
        self.openai.enqueue(*replies)
        return document or self.provider()


def _handler(ctx, file_name, class_name, source=None, config=None):
    if source:
        write_handler(ctx.handlers, file_name, source)
    return handler_document(ctx.openai, config or {"file_name": file_name, "class_name": class_name})


def _metadata_endpoint(ctx):
    ctx.db_changes = {"endpoint": "http://169.254.169.254/latest"}  # a row saved before the policy existed
    return ctx.provider()


SIMULATED = '"Simulated HTTP {code} for status-{code}."'
CHECK_AUTH = "Check the authentication settings of the integration (header name, key or token, scope)."

FAULTS = [
    Fault(
        "connect timeout", "failed", "timeout", 1,
        "Connecting to the provider at 127.0.0.1:{port} timed out after 1 s.",
        lambda ctx: provider_document(f"http://127.0.0.1:{ctx.blackhole_port()}/v1"),
        {"RUNNERS_CONNECT_TIMEOUT": 1, "RUNNERS_MAX_RETRIES": 0},
    ),
    Fault(
        "read timeout (retried)", "failed", "timeout", 2,
        "The provider sent nothing for 1 s (RUNNERS_REQUEST_TIMEOUT, the longest wait for the first byte and "
        "between two chunks). Gave up after 2 attempts.",
        lambda ctx: ctx.provider("slow-3"),
        {"RUNNERS_REQUEST_TIMEOUT": 1, "RUNNERS_MAX_RETRIES": 1},
    ),
    Fault(
        "429 with Retry-After, then 200", "succeeded", None, 2, "",
        lambda ctx: ctx.enqueue_reply(Reply(status=429, headers={"Retry-After": "0.1"})),
    ),
    Fault(
        "429 every time", "failed", "rate_limited", 3,
        f"The provider is rate limiting requests (HTTP 429): {SIMULATED.format(code=429)}. Gave up after 3 attempts.",
        lambda ctx: ctx.provider("status-429"),
    ),
    Fault(
        "500 then 502, then 200", "succeeded", None, 3, "",
        lambda ctx: ctx.enqueue_reply(Reply(status=500, body="oops"), Reply(status=502, body="bad gateway")),
    ),
    Fault(
        "503 every time", "failed", "provider_error", 3,
        f"The provider failed with HTTP 503: {SIMULATED.format(code=503)}. Gave up after 3 attempts.",
        lambda ctx: ctx.provider("status-503"),
    ),
    Fault(
        "HTML page", "failed", "invalid_response", 1,
        "The provider answered HTTP 200 with a body that is not JSON (text/html) (an HTML page: is the endpoint the "
        "API's base URL, not a web page?).",
        lambda ctx: ctx.provider("html"),
    ),
    Fault(
        "body that is not JSON", "failed", "invalid_response", 1,
        "The provider answered HTTP 200 with a body that is not JSON (application/json).",
        lambda ctx: ctx.provider("not-json"),
    ),
    Fault(
        "JSON that is not a completion", "failed", "malformed_completion", 1,
        "The provider's answer is not a Chat Completion (choices: Field required).",
        lambda ctx: ctx.provider("malformed"),
    ),
    Fault(
        "connection refused", "failed", "connection_refused", 3,
        "Connection to 127.0.0.1:{port} was refused: is the provider running, and is the port in the URL right? "
        "Gave up after 3 attempts.",
        lambda ctx: provider_document(f"http://127.0.0.1:{ctx.closed_port()}/v1"),
    ),
    Fault(
        "DNS failure", "failed", "dns_failure", 1,
        'The host name "no-such-provider.invalid" could not be resolved (DNS failure): check the URL.',
        lambda ctx: provider_document("http://no-such-provider.invalid/v1"),
    ),
    Fault(
        "TLS to a plain-http server", "failed", "tls_error", 1,
        "127.0.0.1:{port} does not speak TLS on this port: if it serves plain HTTP, the endpoint must be http://.",
        lambda ctx: provider_document(ctx.openai.url.replace("http://", "https://")),
    ),
    Fault(
        "401", "failed", "auth_rejected", 1,
        f"The provider rejected the credentials (HTTP 401): {SIMULATED.format(code=401)}. {CHECK_AUTH}",
        lambda ctx: ctx.provider("status-401"),
    ),
    Fault(
        "403", "failed", "auth_rejected", 1,
        f"The provider rejected the credentials (HTTP 403): {SIMULATED.format(code=403)}. {CHECK_AUTH}",
        lambda ctx: ctx.provider("status-403"),
    ),
    Fault(
        "404", "failed", "model_not_found", 1,
        'The provider answered 404 Not Found for model "status-404" at {url}/chat/completions: '
        f"{SIMULATED.format(code=404)}: check the model name (it is sent verbatim) and that the endpoint is the "
        "API's base URL.",
        lambda ctx: ctx.provider("status-404"),
    ),
    Fault(
        "other 4xx", "failed", "bad_request", 1,
        f"The provider refused the request with HTTP 400: {SIMULATED.format(code=400)}.",
        lambda ctx: ctx.provider("status-400"),
    ),
    Fault(
        "302 to the metadata service", "failed", "bad_request", 1,
        "The provider redirected the request (HTTP 302) to http://169.254.169.254/latest/meta-data: use the final "
        "URL as the endpoint.",
        lambda ctx: ctx.enqueue_reply(
            Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data?x=1"})
        ),
    ),
    Fault(
        "metadata address", "failed", "blocked_address", 1,
        "Connecting to 169.254.169.254 was refused: link-local and cloud metadata addresses are never allowed. The "
        "runners never connect to link-local or cloud metadata addresses, nor to private ones when "
        "RUNNERS_BLOCK_PRIVATE_NETWORKS is true (except RUNNERS_ALLOWED_NETWORKS).",
        _metadata_endpoint,
    ),
    Fault(
        "token endpoint down", "failed", "token_endpoint_error", 3,
        "Could not get an OAuth2 token: Connection to 127.0.0.1:{port} was refused: is the OAuth2 token endpoint "
        "running, and is the port in the URL right?…",
        lambda ctx: ctx.oauth2_document(oauth2_token_url=f"http://127.0.0.1:{ctx.closed_port()}/token"),
    ),
    Fault(
        "token endpoint 400", "failed", "token_endpoint_error", 1,
        "The OAuth2 token endpoint answered HTTP 400: 'bad grant'. Check oauth2_token_url, the client id and "
        "secret and the scope.",
        lambda ctx: (
            ctx.oauth2.enqueue(Reply(status=400, json={"error": "invalid_request", "error_description": "bad grant"})),
            ctx.oauth2_document(),
        )[1],
    ),
    Fault(
        "token answer without access_token", "failed", "token_endpoint_error", 1,
        'The OAuth2 token endpoint answered without an "access_token" (the body must be JSON with an "access_token" '
        "string).",
        lambda ctx: (ctx.oauth2.enqueue(Reply(json={"token_type": "Bearer"})), ctx.oauth2_document())[1],
    ),
    Fault(
        "OAuth2 token rejected twice", "failed", "auth_rejected", 2,
        f"The provider rejected the credentials (HTTP 401): {SIMULATED.format(code=401)}. {CHECK_AUTH} A newly "
        "fetched OAuth2 token was rejected too.",
        lambda ctx: ctx.oauth2_document("status-401"),
    ),
    Fault(
        "handler raises in acompletion", "failed", "handler_error", 1,
        "The custom handler ProprietaryLLMHandler raised ProprietaryAPIError: the API answered HTTP 500",
        lambda ctx: (
            ctx.openai.enqueue_generate(Reply(status=500, body="internal")),
            handler_document(ctx.openai, {**CONFIG, "init_kwargs": {"retry_count": 0}}),
        )[1],
    ),
    Fault(
        "handler raises in __init__", "failed", "handler_config", 1,
        '"BrokenInit" could not be built with init_kwargs: RuntimeError: cannot reach the licence server',
        lambda ctx: _handler(ctx, "broken_init.py", "BrokenInit", RAISES_IN_INIT),
    ),
    Fault(
        "handler that hangs", "failed", "timeout", 1,
        "The custom handler Hangs did not answer within 1 s (RUNNERS_REQUEST_TIMEOUT).",
        lambda ctx: _handler(ctx, "hangs.py", "Hangs", HANGING_HANDLER),
        {"RUNNERS_REQUEST_TIMEOUT": 1},
    ),
    Fault(
        "handlers disabled", "failed", "handler_config", 1,
        "Custom handlers are disabled on this deployment (set GALILEO_CUSTOM_LLMS_ENABLED=true).",
        lambda ctx: handler_document(ctx.openai),
        {"GALILEO_CUSTOM_LLMS_ENABLED": False},
    ),
]  # fmt: skip


def markdown_table() -> str:
    """The table for the README."""
    rows = ["| fault | status | error_type | attempts | message |", "| --- | --- | --- | --- | --- |"]
    for fault in FAULTS:
        message = fault.message.replace("|", "\\|") or "(output stored)"
        rows.append(f"| {fault.kind} | {fault.status} | {fault.error_type or ''} | {fault.attempts} | {message} |")
    return "\n".join(rows)


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.kind for fault in FAULTS])
def test_each_provider_fault_ends_as_the_table_says(
    fault,
    execute,
    openai_server,
    oauth2_server,
    handlers_dir,  # noqa: F811 (the fixture imported above)
    integrate,
    enqueue,
    settings,
):
    ctx = Context(openai_server, oauth2_server, handlers_dir)
    integration = integrate(fault.setup(ctx))
    if ctx.db_changes:
        Integration.objects.filter(pk=integration.pk).update(**ctx.db_changes)
    for name, value in fault.settings.items():
        setattr(settings, name, value)
    run = execute(enqueue(integration))
    for kept in ctx.keep:
        kept.close()

    expected = fault.message.format(port=ctx.port, url=openai_server.url)
    assert (run.status, run.error_type, run.attempts) == (fault.status, fault.error_type, fault.attempts), (
        run.error_message
    )
    if expected.endswith("…"):
        assert (run.error_message or "").startswith(expected[:-1]), run.error_message
    else:
        assert (run.error_message or "") == expected
    if run.status == "succeeded":
        assert run.output == "echo: Hello there"
    assert len(run.attempt_log) == run.attempts
    secrets = ["sk-test-ABC123xyz", oauth2_server.client_secret, *oauth2_server.issued_tokens]
    assert not any(secret in json.dumps([run.error_message, run.request, run.response]) for secret in secrets)
