"""Credentials for provider requests: API key headers and OAuth2 client-credentials tokens.

OAuth2 (RFC 6749 §4.4): the token request is POSTed form-encoded to the
integration's token URL with grant_type=client_credentials, client_id and
client_secret in the body (client_secret_post, what the product page describes:
the credentials "will be sent to the OAuth2 endpoint") and `scope` when set.
Tokens are cached in the Django cache (Redis in production, so shared by every
worker), encrypted with INTEGRATIONS_ENCRYPTION_KEYS, until shortly before
`expires_in`. A cache lock makes a burst of runs wait for one token request
instead of each asking for a token.
"""

import hashlib
import json
import time
import uuid
from dataclasses import dataclass

import pydantic
from django.conf import settings
from django.core.cache import cache

from integrations.encryption import secrets_cipher
from runners.event_loop import submit
from runners.failures import FailureKind
from runners.metrics import observe_token_request
from runners.redaction import basic_credentials
from runners.request_building import USER_AGENT
from runners.tls import TLSConfig
from runners.transport import Timeouts, TransportError, post_form, provider_detail

DEFAULT_TOKEN_LIFETIME = 300  # when the token endpoint does not say
LOCK_POLL_INTERVAL = 0.02
FAILURE_MEMORY = 5  # seconds a failed token request is remembered, so the runs waiting on it fail with its error


@dataclass(frozen=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str
    scope: str
    # The integration's TLS settings, for the token URL too; with a client certificate the token may be bound
    # to it (RFC 8705), so it is part of the cache key.
    tls: TLSConfig | None = None

    def secret_values(self) -> list[str]:
        """What a token endpoint's answer must not show: both components and the Basic value made of them."""
        return [self.client_id, self.client_secret, basic_credentials(self.client_id, self.client_secret)]

    @property
    def cache_key(self) -> str:
        fingerprint = hashlib.sha256(
            json.dumps(
                [self.token_url, self.client_id, self.client_secret, self.scope, self.tls and self.tls.digest]
            ).encode()
        ).hexdigest()
        return f"runners:oauth2:{fingerprint}"


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

    def __init__(self, message: str, *, outcome: str, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.outcome = outcome


def client_credentials(
    *, token_url: str, token_document: str | None, scope: str, tls: TLSConfig | None = None
) -> ClientCredentials:
    """The credentials from the integration's `token` JSON string (validated at save time)."""
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
        token_url=token_url, client_id=client_id, client_secret=client_secret, scope=scope, tls=tls
    )


def _cache_lifetime(expires_in: float | None) -> float:
    lifetime = expires_in if expires_in and expires_in > 0 else DEFAULT_TOKEN_LIFETIME
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


async def request_token(credentials: ClientCredentials, timeouts: Timeouts) -> tuple[str, float | None]:
    """One client-credentials token request: (access_token, expires_in)."""
    what = "the OAuth2 token endpoint"
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    if credentials.scope:
        form["scope"] = credentials.scope
    try:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
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
    future = submit(request_token(credentials, timeouts))
    try:
        token, expires_in = future.result(timeout=max(0.001, deadline - time.monotonic()))
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
    return token
