"""Credentials for provider requests: API key headers and OAuth2 client-credentials tokens.

OAuth2 (RFC 6749 §4.4): the token request is POSTed form-encoded to the
integration's token URL with grant_type=client_credentials, `scope` when set and
the document's `oauth2_token_params` (audience, resource...). The client
authenticates as the document's `oauth2_token_auth_method` says (RFC 6749
§2.3.1): client_secret_post (id and secret in the body, what the product page
describes and the default) or client_secret_basic (`Authorization: Basic` of the
form-urlencoded id and secret). When the document names none and the endpoint
refuses one as `invalid_client` (§5.2, HTTP 400 or 401), the other is tried once;
the one that worked is remembered for the integration (shared cache and
`Integration.oauth2_token_auth_method_learned`) and tried first next time.
Tokens are cached in the Django cache (Redis in production, so shared by every
worker), encrypted with INTEGRATIONS_ENCRYPTION_KEYS, until shortly before
`expires_in`. A cache lock makes a burst of runs wait for one token request
instead of each asking for a token.
"""

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import pydantic
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from integrations.encryption import secrets_cipher
from integrations.services import integration_oauth2_method_learn
from runners.event_loop import submit
from runners.failures import FailureKind
from runners.metrics import observe_token_request
from runners.redaction import basic_credentials
from runners.request_building import USER_AGENT
from runners.tls import TLSConfig
from runners.transport import Timeouts, TransportError, post_form, provider_detail

DEFAULT_TOKEN_LIFETIME = 300  # when the token endpoint does not say
MAX_TOKEN_LIFETIME = 24 * 3600  # a token that lives longer is fetched again after a day
LOCK_POLL_INTERVAL = 0.02
FAILURE_MEMORY = 5  # seconds a failed token request is remembered, so the runs waiting on it fail with its error
logger = logging.getLogger(__name__)
CLIENT_SECRET_POST, CLIENT_SECRET_BASIC = "client_secret_post", "client_secret_basic"
METHOD_MEMORY = 30 * 24 * 3600  # seconds the shared cache keeps the method that worked (the database keeps it too)


@dataclass(frozen=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    auth_method: str = ""  # the document's oauth2_token_auth_method; "" = not given
    params: tuple[tuple[str, str], ...] = ()  # oauth2_token_params
    learned_method: str = ""  # what worked before, when auth_method is not given
    integration_id: int | None = None
    # The integration's TLS settings, for the token URL too; with a client certificate the token may be bound
    # to it (RFC 8705), so it is part of the cache key.
    tls: TLSConfig | None = None

    def secret_values(self) -> list[str]:
        """What a token endpoint's answer must not show: both components and the Basic values made of them."""
        return [
            self.client_id,
            self.client_secret,
            basic_credentials(self.client_id, self.client_secret),
            self.basic_value,
        ]

    @property
    def basic_value(self) -> str:
        """client_secret_basic's credential: Base64 of the form-urlencoded id and secret (RFC 6749 section 2.3.1)."""
        return basic_credentials(quote_plus(self.client_id), quote_plus(self.client_secret))

    @property
    def cache_key(self) -> str:
        # Extra fields change the token (another audience is another token); the method does not.
        fingerprint = hashlib.sha256(
            json.dumps(
                [
                    self.token_url,
                    self.client_id,
                    self.client_secret,
                    self.scope,
                    *self.params,
                    self.tls and self.tls.digest,
                ]
            ).encode()
        ).hexdigest()
        return f"runners:oauth2:{fingerprint}"

    def methods_to_try(self) -> list[str]:
        """The document's method alone; else the one that worked last (or client_secret_post), then the other."""
        if self.auth_method:
            return [self.auth_method]
        first = cache.get(f"{self.cache_key}:method") or self.learned_method or CLIENT_SECRET_POST
        return [first, CLIENT_SECRET_BASIC if first == CLIENT_SECRET_POST else CLIENT_SECRET_POST]


class _TokenAnswer(pydantic.BaseModel):
    access_token: str = pydantic.Field(min_length=1)
    token_type: str | None = None
    expires_in: float | None = None

    @pydantic.field_validator("expires_in", mode="before")
    @classmethod
    def _lenient_expiry(cls, value):
        # Some servers send a string, or a null; a value we cannot read means "unknown".
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None


class TokenRequestError(TransportError):
    """A failed token request; `outcome` says how it failed, for the metrics (runners.metrics)."""

    def __init__(self, message: str, *, outcome: str, invalid_client: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.outcome = outcome
        self.invalid_client = invalid_client  # RFC 6749 section 5.2: the client's authentication was refused


def _invalid_client(status: int, body: bytes, www_authenticate: str = "") -> bool:
    """RFC 6749 section 5.2: `{"error": "invalid_client"}` with HTTP 400, or 401 when the client used Basic; or a
    401 whose WWW-Authenticate asks for HTTP Basic, the way 5.2 lets a server say which scheme it supports (Spring
    Security OAuth2 answers credentials in the form so, with `{"error": "unauthorized"}`)."""
    if status not in (400, 401):
        return False
    if status == 401 and any(part.strip().lower().startswith("basic") for part in www_authenticate.split(",")):
        return True
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("error") == "invalid_client"


def client_credentials(
    *,
    token_url: str,
    token_document: str | None,
    scope: str,
    auth_method: str = "",
    params: dict[str, str] | None = None,
    learned_method: str = "",
    integration_id: int | None = None,
    tls: TLSConfig | None = None,
) -> ClientCredentials:
    """The credentials from the integration's `token` JSON string (validated at save time) and its token request
    settings (`oauth2_token_auth_method`, `oauth2_token_params`, the method learned before) and TLS settings."""
    try:
        data = json.loads(token_document or "")
        client_id, client_secret = str(data["client_id"]), str(data["client_secret"])
    except (ValueError, TypeError, KeyError):
        raise TransportError(
            'The integration\'s "token" is not a JSON object with "client_id" and "client_secret".',
            permanent=True,
            error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
        ) from None
    return ClientCredentials(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        auth_method=auth_method,
        params=tuple(sorted((params or {}).items())),
        learned_method=learned_method,
        integration_id=integration_id,
        tls=tls,
    )


def _cache_lifetime(expires_in: float | None) -> float:
    """Seconds to keep a token: its expires_in (DEFAULT_TOKEN_LIFETIME when absent, not positive or NaN), at most
    MAX_TOKEN_LIFETIME: JSON numbers are unbounded (1e999 reads as infinity), and a cache timeout is not."""
    lifetime = min(expires_in, MAX_TOKEN_LIFETIME) if expires_in and expires_in > 0 else DEFAULT_TOKEN_LIFETIME
    # Refresh shortly before expiry: 10 % of the lifetime, at most a minute.
    return max(lifetime - min(60.0, lifetime * 0.1), 0.001)


def _cached_token(credentials: ClientCredentials) -> str | None:
    stored = cache.get(credentials.cache_key)
    if not stored:
        return None
    try:
        data = json.loads(secrets_cipher().decrypt(stored))
    except Exception:  # a token encrypted with a rotated key, or garbage: fetch a new one
        return None
    if data["refresh_at"] <= time.time():
        return None
    return data["access_token"]


def _store_token(credentials: ClientCredentials, token: str, expires_in: float | None) -> None:
    lifetime = _cache_lifetime(expires_in)
    payload = json.dumps({"access_token": token, "refresh_at": time.time() + lifetime}).encode()
    stored = secrets_cipher().encrypt(payload)
    cache.set(credentials.cache_key, stored, timeout=max(1, int(lifetime) + 1))


async def request_token(
    credentials: ClientCredentials, timeouts: Timeouts, *, method: str = CLIENT_SECRET_POST
) -> tuple[str, float | None]:
    """One client-credentials token request, the client authenticating with `method`: (access_token, expires_in).

    Raises TokenRequestError (token_endpoint_error; `invalid_client` set when the endpoint refused the client).
    """
    what = "the OAuth2 token endpoint"
    form = {"grant_type": "client_credentials"}
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if method == CLIENT_SECRET_BASIC:
        headers["Authorization"] = f"Basic {credentials.basic_value}"
    else:
        form.update(client_id=credentials.client_id, client_secret=credentials.client_secret)
    if credentials.scope:
        form["scope"] = credentials.scope
    form.update(credentials.params)  # validated at save: never one of the fields above
    try:
        answer = await post_form(
            credentials.token_url,
            data=form,
            headers=headers,
            timeouts=timeouts,
            what=what,
            max_response_bytes=settings.RUNNERS_MAX_RESPONSE_BYTES,
            tls=credentials.tls,
        )
    except TransportError as exc:
        raise TokenRequestError(
            f"Could not get an OAuth2 token: {exc.message}",
            permanent=exc.permanent,
            error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
            outcome="timeout" if exc.error_type == FailureKind.TIMEOUT else "unreachable",
        ) from None
    if answer.status_code != 200:
        # A token endpoint may quote the credentials it refuses; this message is cached for other workers.
        detail = provider_detail(
            answer.body, answer.headers.get("content-type", ""), secrets=credentials.secret_values()
        )
        raise TokenRequestError(
            f"The OAuth2 token endpoint answered HTTP {answer.status_code}"
            f"{': ' + repr(detail) if detail else ''}. Check oauth2_token_url, the client id and secret"
            f"{' and the scope' if credentials.scope else ''}.",
            permanent=answer.status_code < 500 and answer.status_code != 429,
            error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
            status_code=answer.status_code,
            outcome="http_error",
            invalid_client=_invalid_client(answer.status_code, answer.body, answer.headers.get("www-authenticate", "")),
        )
    try:
        token = _TokenAnswer.model_validate_json(answer.body)
    except pydantic.ValidationError:
        raise TokenRequestError(
            'The OAuth2 token endpoint answered without an "access_token" (the body must be JSON with '
            'an "access_token" string).',
            permanent=True,
            error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
            outcome="invalid_response",
        ) from None
    return token.access_token, token.expires_in


async def request_token_negotiated(
    credentials: ClientCredentials, timeouts: Timeouts, methods: list[str]
) -> tuple[str, float | None, str]:
    """A token, trying the client authentication `methods` in turn (ClientCredentials.methods_to_try): the next only
    when one was refused as invalid_client. Returns (access_token, expires_in, the method that worked)."""
    for index, method in enumerate(methods):
        try:
            token, expires_in = await request_token(credentials, timeouts, method=method)
        except TokenRequestError as exc:
            if exc.invalid_client and index + 1 < len(methods):
                # Counted here: the metric counts token endpoint requests, and this one is not the last.
                observe_token_request(outcome=exc.outcome)
                continue
            # Not the methods' names: they contain the words of the `token` JSON, which scrubbing hides.
            if exc.invalid_client and len(methods) > 1:
                exc.message += " It refused the client both with the credentials in the form and with HTTP Basic."
            elif exc.invalid_client:
                how = "HTTP Basic" if method == CLIENT_SECRET_BASIC else "the credentials in the form"
                exc.message += f" The client authenticated with {how}, as oauth2_token_auth_method says."
            raise
        return token, expires_in, method
    raise AssertionError("unreachable: methods_to_try is never empty")


def _remember_method(credentials: ClientCredentials, method: str) -> None:
    """Share the method that worked (when the document names none) and record it on the integration."""
    if credentials.auth_method:
        return
    cache.set(f"{credentials.cache_key}:method", method, timeout=METHOD_MEMORY)
    if credentials.integration_id is not None and method != credentials.learned_method:
        try:
            integration_oauth2_method_learn(integration_id=credentials.integration_id, method=method)
        except DatabaseError:  # the run has its token: what the page shows can wait for the next token
            logger.warning(
                "Could not record the OAuth2 client authentication method of integration %s.",
                credentials.integration_id,
                exc_info=True,
            )


def access_token(
    credentials: ClientCredentials, *, timeouts: Timeouts, deadline: float, rejected: str | None = None
) -> str:
    """A valid access token, from the shared cache or one token request for all waiting runs.

    `rejected` is a token the provider just answered 401 to: it is not reused, and
    if another worker has already replaced it, the replacement is used.
    """
    lock_key = f"{credentials.cache_key}:lock"
    failure_key = f"{credentials.cache_key}:failure"
    owner = uuid.uuid4().hex
    waiting_since = time.time()
    while True:
        token = _cached_token(credentials)
        if token and token != rejected:
            return token
        failure = cache.get(failure_key)
        if failure and failure["at"] >= waiting_since:
            # The request this run was waiting for failed; a later run (or retry) asks again.
            raise TransportError(**failure["error"])
        if cache.add(lock_key, owner, timeout=max(1, int(timeouts.request + timeouts.connect) + 1)):
            try:
                # The holder before us may have stored a token between our read and our lock.
                token = _cached_token(credentials)
                if token and token != rejected:
                    return token
                return _fetch_and_store(credentials, timeouts=timeouts, deadline=deadline, failure_key=failure_key)
            finally:
                if cache.get(lock_key) == owner:
                    cache.delete(lock_key)
        if time.monotonic() > deadline:
            raise TransportError(
                "Timed out waiting for another worker's OAuth2 token request.",
                permanent=False,
                error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
            )
        time.sleep(LOCK_POLL_INTERVAL)


def _fetch_and_store(credentials: ClientCredentials, *, timeouts: Timeouts, deadline: float, failure_key: str) -> str:
    future = submit(request_token_negotiated(credentials, timeouts, credentials.methods_to_try()))
    try:
        token, expires_in, method = future.result(timeout=max(0.001, deadline - time.monotonic()))
    except TimeoutError:
        future.cancel()
        observe_token_request(outcome="timeout")
        raise TransportError(
            "The OAuth2 token request did not finish before the run's deadline.",
            permanent=False,
            error_type=FailureKind.TOKEN_ENDPOINT_ERROR,
        ) from None
    except TransportError as exc:
        observe_token_request(outcome=getattr(exc, "outcome", "unreachable"))
        error = {"message": exc.message, "permanent": exc.permanent, "error_type": exc.error_type}
        cache.set(failure_key, {"at": time.time(), "error": error}, timeout=FAILURE_MEMORY)
        raise
    observe_token_request(outcome="ok")
    cache.delete(failure_key)
    _store_token(credentials, token, expires_in)
    _remember_method(credentials, method)
    return token
