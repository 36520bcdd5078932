"""The document's optional `tls` key: a private CA to trust and a client certificate to present (mutual TLS).

    "tls": {"ca_bundle": PEM, "client_certificate": PEM, "client_key": PEM}

Every member is optional, but `client_certificate` and `client_key` come together. PEM text is parsed with
`cryptography` at save time: `ca_bundle` is one or more certificates (trusted in addition to the system's CAs),
`client_certificate` one or more (the leaf first, then any intermediates), `client_key` an unencrypted private
key (PKCS#8 `BEGIN PRIVATE KEY`, or `BEGIN RSA/EC PRIVATE KEY`) whose public key is the leaf's. A certificate
that has expired (or is not valid yet) is refused. `client_key` is a secret (kept like `api_key_value`); no
message here ever quotes it.
"""

import datetime
import math
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from pydantic import BaseModel, ConfigDict, Field

from core.openssl_pem import load_ca_bundle, load_cert_chain
from core.problems import Problem

OPENSSL_REFUSED = (
    "OpenSSL, which makes the connections, cannot read this PEM text although it looks well formed: every line "
    "must start at the beginning, with no indentation (as when copied from a YAML file)."
)
MAX_PEM_LENGTH = 256 * 1024  # a bundle of a few hundred CA certificates
EXPIRY_WARNING_DAYS = 30


class TLSIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ca_bundle: str | None = Field(None, description="CA certificates (PEM) trusted in addition to the system's.")
    client_certificate: str | None = Field(
        None, description="The client certificate (PEM, leaf first) presented for mutual TLS; needs client_key."
    )
    client_key: str | None = Field(
        None, description='Its unencrypted private key (PEM); a secret, read back as "********".'
    )


@dataclass(frozen=True)
class ParsedTLS:
    """The validated `tls` key: PEM text as given (None when absent)."""

    ca_bundle: str | None
    client_certificate: str | None
    client_key: str | None


@dataclass(frozen=True)
class CertificateSummary:
    """What the Settings page shows of one certificate: its subject, issuer and end of validity (UTC)."""

    role: str  # "CA" or "client certificate"
    subject: str
    issuer: str
    not_valid_after: datetime.datetime

    def days_left(self, now: datetime.datetime | None = None) -> int:
        """Whole days until the end of validity, a started day counted (19.2 days: 20); negative once expired."""
        remaining = self.not_valid_after - (now or datetime.datetime.now(datetime.UTC))
        return math.ceil(remaining.total_seconds() / 86400)

    def expires_soon(self, now: datetime.datetime | None = None) -> bool:
        """True within EXPIRY_WARNING_DAYS of the end of validity (and after it)."""
        remaining = self.not_valid_after - (now or datetime.datetime.now(datetime.UTC))
        return remaining < datetime.timedelta(days=EXPIRY_WARNING_DAYS)


def _certificates(pem: str, loc: tuple, what: str, errors: list[Problem]) -> list[x509.Certificate]:
    if len(pem) > MAX_PEM_LENGTH:
        errors.append(Problem(loc, f"Longer than {MAX_PEM_LENGTH:,} characters.", "too_long"))
        return []
    if "PRIVATE KEY-----" in pem:
        # These members are read back in clear to every member: a combined "certificate + key" file pasted here
        # would publish the key.
        errors.append(
            Problem(
                loc,
                "This PEM text holds a private key, and this member is shown to every member of the organisation: "
                "paste only the certificates here (the client's private key goes in client_key, which is kept "
                "secret).",
                "private_key_in_certificate",
            )
        )
        return []
    if "-----BEGIN CERTIFICATE-----" not in pem:
        errors.append(
            Problem(
                loc,
                f"Must be {what} in PEM form (text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----).",
                "pem_invalid",
            )
        )
        return []
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        errors.append(Problem(loc, f"Could not be read as {what}: a certificate's PEM text is damaged.", "pem_invalid"))
        return []
    now = datetime.datetime.now(datetime.UTC)
    for index, certificate in enumerate(certificates):
        name = certificate.subject.rfc4514_string() or "(no subject)"
        position = f" (certificate {index + 1})" if len(certificates) > 1 else ""
        if certificate.not_valid_after_utc <= now:
            errors.append(
                Problem(
                    loc,
                    f'The certificate "{name}"{position} expired on {certificate.not_valid_after_utc:%Y-%m-%d}: '
                    "paste a renewed one.",
                    "certificate_expired",
                )
            )
        elif certificate.not_valid_before_utc > now:
            errors.append(
                Problem(
                    loc,
                    f'The certificate "{name}"{position} is not valid before '
                    f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC.",
                    "certificate_not_yet_valid",
                )
            )
    return certificates


def _private_key(pem: str, loc: tuple, errors: list[Problem]):
    # Never quote the key, nor cryptography's message about it.
    if len(pem) > MAX_PEM_LENGTH:
        errors.append(Problem(loc, f"Longer than {MAX_PEM_LENGTH:,} characters.", "too_long"))
        return None
    if "ENCRYPTED" in pem:
        errors.append(
            Problem(
                loc,
                "The private key is encrypted with a passphrase; paste it unencrypted "
                "(openssl pkey -in key.pem -out plain.pem). It is encrypted at rest here.",
                "private_key_encrypted",
            )
        )
        return None
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except Exception:  # ValueError, TypeError or UnsupportedAlgorithm; never quoted: it may show the key
        errors.append(
            Problem(
                loc,
                "Must be a private key in PEM form (text from -----BEGIN PRIVATE KEY----- to "
                "-----END PRIVATE KEY-----, or an RSA or EC key).",
                "pem_invalid",
            )
        )
        return None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
    ):
        errors.append(
            Problem(loc, "TLS client keys are RSA, EC, Ed25519 or Ed448 keys; this one is not.", "pem_invalid")
        )
        return None
    return key


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_tls(tls: TLSIn | None, errors: list[Problem]) -> ParsedTLS | None:
    """The `tls` key checked (problems appended to `errors`, under ("tls", member)); None when it is absent."""
    if tls is None:
        return None
    if tls.ca_bundle is not None:
        _certificates(tls.ca_bundle, ("tls", "ca_bundle"), "one or more CA certificates", errors)
    has_certificate, has_key = tls.client_certificate is not None, tls.client_key is not None
    if has_certificate != has_key:
        missing = "client_key" if has_certificate else "client_certificate"
        present = "client_certificate" if has_certificate else "client_key"
        errors.append(Problem(("tls", missing), f"Required with {present}: mutual TLS needs both.", "missing"))
    certificates, key = [], None
    if has_certificate:
        certificates = _certificates(tls.client_certificate, ("tls", "client_certificate"), "a certificate", errors)
    if has_key:
        key = _private_key(tls.client_key, ("tls", "client_key"), errors)
    if (
        certificates
        and key is not None
        and _public_bytes(certificates[0].public_key()) != _public_bytes(key.public_key())
    ):
        errors.append(
            Problem(
                ("tls", "client_key"),
                "This private key does not belong to client_certificate (the first certificate there must be "
                "the one issued for this key).",
                "key_mismatch",
            )
        )
    if not any(error.loc[:1] == ("tls",) for error in errors):
        _check_openssl_loads(tls, errors)
    return ParsedTLS(ca_bundle=tls.ca_bundle, client_certificate=tls.client_certificate, client_key=tls.client_key)


def _check_openssl_loads(tls: TLSIn, errors: list[Problem]) -> None:
    """What cryptography read, loaded as the runners load it (core.openssl_pem), whose PEM reader is stricter."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls.ca_bundle is not None:
        try:
            load_ca_bundle(context, tls.ca_bundle)
        except ssl.SSLError:
            errors.append(Problem(("tls", "ca_bundle"), OPENSSL_REFUSED, "pem_invalid"))
    if tls.client_certificate is not None and tls.client_key is not None:
        try:
            load_cert_chain(context, tls.client_certificate, tls.client_key)
        except ssl.SSLError:  # never quoted: about the key, it may show part of it
            member = "client_key" if _refused_alone(tls.client_certificate) else "client_certificate"
            errors.append(Problem(("tls", member), OPENSSL_REFUSED, "pem_invalid"))


def _refused_alone(certificate: str) -> bool:
    """True when OpenSSL reads the certificate itself, so that the key is what it refused."""
    try:
        load_ca_bundle(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), certificate)
    except ssl.SSLError:
        return False
    return True


def certificate_summaries(*, ca_bundle: str | None, client_certificate: str | None) -> list[CertificateSummary]:
    """The stored certificates as the Settings page shows them: the client certificate (its leaf), then each CA."""
    summaries = []
    for role, pem in (("client certificate", client_certificate), ("CA", ca_bundle)):
        if not pem:
            continue
        try:
            certificates = x509.load_pem_x509_certificates(pem.encode())
        except ValueError:
            continue
        if role == "client certificate":
            certificates = certificates[:1]
        summaries.extend(
            CertificateSummary(
                role=role,
                subject=certificate.subject.rfc4514_string(),
                issuer=certificate.issuer.rfc4514_string(),
                not_valid_after=certificate.not_valid_after_utc,
            )
            for certificate in certificates
        )
    return summaries
