"""The provider request of a run, exactly as DESIGN.md §4 describes, and its redacted record."""

import base64
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from integrations.models import AuthenticationType
from runners.applied_rules import STREAM_OPTIONS, dropped_by_rules, effective_names
from runners.parameters import split_supported, to_wire
from runners.redaction import REDACTED, basic_credentials, redact_url
from runners.tls import TLSConfig

USER_AGENT = "custom-model-integrations-runner/1.0"


@dataclass(frozen=True)
class IntegrationConfig:
    """What a run needs of its integration, decrypted. Shared by the runs of that integration on a worker
    (runners.integration_cache): read-only. Secrets are left out of repr (error reports that print locals)."""

    name: str
    endpoint: str
    authentication_type: str
    api_key_header: str
    api_key_value: str | None = field(repr=False)
    token_url: str
    token_document: str | None = field(repr=False)
    authentication_scope: str
    custom_header_mapping: dict[str, str]
    static_headers: dict[str, str] = field(repr=False)
    custom_llm_config: dict[str, Any] | None
    # Model name -> its supported parameters (the first model by position, if a name repeats).
    supported_parameters: dict[str, list[str]]
    # Model name -> its parameter names in effect (run parameter -> wire name).
    parameter_names: dict[str, dict[str, str]] = field(default_factory=dict)
    # OAuth2 client authentication (runners.auth): the document's method ("" = not given), the one the token
    # endpoint accepted before (a hint when none is given), and extra token form fields.
    integration_id: int | None = None
    oauth2_token_auth_method: str = ""
    oauth2_token_auth_method_learned: str = ""
    oauth2_token_params: dict[str, str] = field(default_factory=dict)
    # The document's `tls` key (None: the shared clients' trust, no client certificate).
    tls: TLSConfig | None = None
    # The document's limits for all workers together (runners.limits); None: none.
    max_concurrency: int | None = None
    requests_per_minute: int | None = None

    def secret_values(self) -> list[str]:
        """Every secret a run of this integration could leak, for scrubbing (runners.redaction.scrub adds the
        URL-encoded and JSON-escaped forms): header values, the API key and its credential, every component of the
        OAuth2 `token` (the client id too) and the `Authorization: Basic` value made of them."""
        values = [str(value) for value in self.static_headers.values()]
        if self.api_key_value:
            values.append(self.api_key_value)
            scheme, _, credential = self.api_key_value.partition(" ")
            if credential and scheme.lower() in ("bearer", "basic", "token"):
                values.append(credential)
            if scheme.lower() == "basic":
                values.extend(_basic_components(credential))
        if self.token_document:
            values.append(self.token_document)
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                token = json.loads(self.token_document)
                values.extend(str(value) for value in token.values() if isinstance(value, str | int | float))
                client_id, client_secret = str(token.get("client_id", "")), str(token.get("client_secret", ""))
                # RFC 6749 section 2.3.1: Basic of the form-encoded id and secret (the same when nothing needs it).
                values.append(basic_credentials(client_id, client_secret))
                values.append(basic_credentials(quote_plus(client_id), quote_plus(client_secret)))
        if self.tls is not None:
            values.extend(self.tls.secret_values())
        return [value for value in values if value]


def _basic_components(credential: str) -> list[str]:
    """What an `Authorization: Basic` credential carries: "user:password", and each (RFC 7617 section 2)."""
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return []
    user, _, password = decoded.partition(":")
    return [decoded, user, password]


@dataclass(frozen=True)
class RunTarget:
    """Everything a worker needs about a run and its integration, read (and decrypted) before the network wait."""

    run_id: str
    job_id: str | None
    user_id: str | None
    project_id: str | None
    model_name: str
    messages: list[dict[str, Any]]
    parameters: dict[str, Any]
    supported_parameters: list[str]
    stream: bool
    integration: IntegrationConfig
    # The model's parameter names in effect, and the learned rules this run applies (Run.applied_rules).
    parameter_names: dict[str, str] = field(default_factory=dict)
    rules: tuple[dict[str, Any], ...] = ()
    integration_id: int | None = None

    @property
    def mapped_values(self) -> dict[str, str | None]:
        return {"job_id": self.job_id, "user_id": self.user_id, "project_id": self.project_id, "run_id": self.run_id}

    def split_parameters(self) -> tuple[dict[str, Any], list[str]]:
        """(parameters sent, names not sent: unsupported, or dropped by a learned rule)."""
        kept, dropped = split_supported(self.parameters, self.supported_parameters)
        refused = dropped_by_rules(self.rules) & set(kept)
        return {k: v for k, v in kept.items() if k not in refused}, sorted({*dropped, *refused})

    def secret_values(self) -> list[str]:
        """Every secret this run could leak, for scrubbing messages."""
        return self.integration.secret_values()


class Headers:
    """Request headers set in order, later names replacing earlier ones case-insensitively; tracks secret ones."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, str, bool]] = {}

    def set(self, name: str, value: str, *, secret: bool) -> None:
        self._items[name.lower()] = (name, value, secret)

    def as_sent(self) -> dict[str, str]:
        return {name: value for name, value, _ in self._items.values()}

    def redacted(self) -> dict[str, str]:
        return {name: REDACTED if secret else value for name, value, secret in self._items.values()}


@dataclass
class ProviderRequest:
    url: str
    headers: Headers
    body: dict[str, Any]
    dropped_parameters: list[str] = field(default_factory=list)
    method: str = "POST"

    def record(self) -> dict[str, Any]:
        """The request as sent, with every secret header value replaced by ********."""
        return {
            "url": redact_url(self.url),
            "method": self.method,
            "headers": self.headers.redacted(),
            "body": self.body,
        }


def completions_url(endpoint: str) -> str:
    """The Chat Completions URL of an endpoint: `/chat/completions` goes onto the end of its path; the query string
    (Azure OpenAI's `?api-version=...`) stays a query string, and a trailing slash makes no double slash.

    https://r.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21
    -> https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21

    The path is joined as the endpoint spells it (percent-escapes kept, so `%2F` stays `%2F`).
    """
    parts = urlsplit(endpoint)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/chat/completions", fragment=""))


def request_headers(target: RunTarget, *, access_token: str | None, base: dict[str, str]) -> Headers:
    """Base headers, then credentials, then custom_header_mapping, then static headers (each overriding)."""
    headers = Headers()
    for name, value in base.items():
        headers.set(name, value, secret=False)
    if target.integration.authentication_type == AuthenticationType.API_KEY and target.integration.api_key_header:
        headers.set(target.integration.api_key_header, target.integration.api_key_value or "", secret=True)
    elif target.integration.authentication_type == AuthenticationType.OAUTH2:
        headers.set("Authorization", f"Bearer {access_token or REDACTED}", secret=True)
    for field_name, header_name in target.integration.custom_header_mapping.items():
        value = target.mapped_values.get(field_name)
        if value:
            headers.set(header_name, value, secret=False)
    for name, value in target.integration.static_headers.items():
        headers.set(name, str(value), secret=True)
    return headers


def build_completion_request(target: RunTarget, *, access_token: str | None) -> ProviderRequest:
    supported, dropped = target.split_parameters()
    names = effective_names(target.parameter_names, target.rules)
    body: dict[str, Any] = {"model": target.model_name, "messages": target.messages, **to_wire(supported, names)}
    base = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if target.stream:
        body["stream"] = True
        # Usage comes in a last chunk only when asked for; a server that refuses it teaches a drop rule.
        if STREAM_OPTIONS not in dropped_by_rules(target.rules):
            body[STREAM_OPTIONS] = {"include_usage": True}
        base["Accept"] = "text/event-stream"
    else:
        base["Accept"] = "application/json"
    headers = request_headers(target, access_token=access_token, base=base)
    return ProviderRequest(
        url=completions_url(target.integration.endpoint), headers=headers, body=body, dropped_parameters=dropped
    )
