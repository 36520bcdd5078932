"""An integration's own TLS settings on the worker: SSL contexts, the clients that use them, and TLS failures in words.

The document's `tls` key (integrations.tls) becomes a TLSConfig on the worker. Its SSL context is httpx's default
trust (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR when set: what every runner trusts) plus `ca_bundle`, and
presents `client_certificate` with `client_key` when given (core.openssl_pem: the private key reaches OpenSSL through
an anonymous in-memory file; the same loader checks a document at save).

Clients are kept per TLS configuration on the worker's event loop (`TLSClients`): at most MAX_TLS_CLIENTS, least
recently used first out, keyed by a digest of the PEM texts. A changed `tls` key has a new digest, so it gets a new
context and never reuses a connection made with the old one; an evicted client is closed after the longest a run
can still be using it.
"""

import asyncio
import contextlib
import hashlib
import json
import ssl
from collections import OrderedDict
from dataclasses import dataclass, field

import httpx

from core.egress import egress_client
from core.openssl_pem import load_ca_bundle, load_cert_chain

MAX_TLS_CLIENTS = 64  # per worker process
TLS_CLIENT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=20, keepalive_expiry=30)


@dataclass(frozen=True)
class TLSConfig:
    """An integration's `tls` key, decrypted: PEM text (None when not given). The key is left out of repr."""

    ca_bundle: str | None = None
    client_certificate: str | None = None
    client_key: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, *, ca_bundle: str | None = None, client_certificate: str | None = None, client_key: str | None = None):
        """A TLSConfig, or None when nothing is set (the shared clients then serve the integration)."""
        if not (ca_bundle or client_certificate or client_key):
            return None
        return cls(ca_bundle or None, client_certificate or None, client_key or None)

    @property
    def digest(self) -> str:
        """SHA-256 of all three PEM texts: the identity of this configuration (cache keys; never shown)."""
        material = json.dumps([self.ca_bundle, self.client_certificate, self.client_key]).encode()
        return hashlib.sha256(material).hexdigest()

    def secret_values(self) -> list[str]:
        """What must never appear in a message: the private key, and each of its lines."""
        if not self.client_key:
            return []
        lines = [line.strip() for line in self.client_key.splitlines()]
        return [self.client_key, *(line for line in lines if len(line) >= 16 and not line.startswith("-----"))]


def ssl_context(tls: TLSConfig) -> ssl.SSLContext:
    """httpx's default trust plus `ca_bundle`, presenting the client certificate when there is one.

    Raises ssl.SSLError for PEM text OpenSSL refuses (validated at save time, so only for data saved otherwise).
    """
    context = httpx.create_ssl_context(trust_env=True)
    if tls.ca_bundle:
        load_ca_bundle(context, tls.ca_bundle)
    if tls.client_certificate and tls.client_key:
        load_cert_chain(context, tls.client_certificate, tls.client_key)
    return context


class TLSClients:
    """The clients of one event loop, one per TLS configuration; bounded, least recently used first out.

    Only coroutines on that loop call `get`. `retire_after`: seconds an evicted client stays open for the requests
    still using it (the longest a run may take).
    """

    def __init__(self, *, retire_after: float, size: int = MAX_TLS_CLIENTS) -> None:
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()
        self._retire_after = retire_after
        self._size = size
        self._retiring: set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._clients)

    def get(self, tls: TLSConfig) -> httpx.AsyncClient:
        key = tls.digest
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = egress_client(limits=TLS_CLIENT_LIMITS, verify=ssl_context(tls))
        self._clients[key] = client
        while len(self._clients) > self._size:
            _, evicted = self._clients.popitem(last=False)
            self._retire(evicted)
        return client

    def _retire(self, client: httpx.AsyncClient) -> None:
        async def close_later() -> None:
            await asyncio.sleep(self._retire_after)
            await client.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        for task in list(self._retiring):
            task.cancel()
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()


# OpenSSL's X509 verification codes (X509_V_ERR_*) the server's certificate fails with.
_UNKNOWN_CA = {2, 18, 19, 20, 21, 27}
_EXPIRED, _NOT_YET_VALID, _HOSTNAME_MISMATCH, _IP_MISMATCH = 10, 9, 62, 64
# Alerts a server sends about the client's certificate (OpenSSL's reason names).
_CLIENT_CERTIFICATE_REFUSED = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "requires a client certificate",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "ended the handshake (a missing or refused client certificate, or no common "
    "cipher)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "refused the client certificate",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "refused the client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "does not trust the issuer of the client certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "refused the client certificate as expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "refused the client certificate as revoked",
    "TLSV1_ALERT_ACCESS_DENIED": "denied access to the client certificate",
}


def tls_failure_message(error: ssl.SSLError, target: str, *, has_ca_bundle: bool, has_client_certificate: bool) -> str:
    """A sentence a person can act on for a failed TLS handshake with `target` (host:port); no secret in it."""
    host = target.rsplit(":", 1)[0]
    if isinstance(error, ssl.SSLCertVerificationError):
        code, said = error.verify_code, error.verify_message
        if code in _UNKNOWN_CA:
            remedy = (
                "Check that tls.ca_bundle holds the CA that issued it (the root, and any intermediate the server "
                "does not send)."
                if has_ca_bundle
                else "If the endpoint uses a private or corporate CA, paste that CA's certificate (PEM) into "
                'the document as "tls": {"ca_bundle": "..."}.'
            )
            return f"The certificate of {target} is not signed by a CA the runners trust ({said}). {remedy}"
        if code == _EXPIRED:
            return f"The certificate of {target} has expired ({said}): whoever runs {host} must renew it."
        if code == _NOT_YET_VALID:
            return f"The certificate of {target} is not valid yet ({said}): check the server's clock and certificate."
        if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
            return (
                f'The certificate of {target} is not issued for the name "{host}" ({said}): use in the endpoint '
                "a host name the certificate lists, or have it reissued with this one."
            )
        return f"The certificate of {target} was refused ({said})."
    reason = (getattr(error, "reason", None) or "").upper()
    if reason in _CLIENT_CERTIFICATE_REFUSED:
        what = _CLIENT_CERTIFICATE_REFUSED[reason]
        remedy = (
            "Check that tls.client_certificate is the one its operator issued for this client and is still valid."
            if has_client_certificate
            else 'Add the client certificate and its key to the document as "tls": {"client_certificate": "...", '
            '"client_key": "..."}.'
        )
        return f"{target} {what} ({reason.lower()}). {remedy}"
    if reason == "WRONG_VERSION_NUMBER":
        return f"{target} does not speak TLS on this port: if it serves plain HTTP, the endpoint must be http://."
    shown = reason.lower() or type(error).__name__
    return (
        f"TLS handshake with {target} failed ({shown}): check that the endpoint really serves https and that its "
        "certificate is valid for this host name."
    )
