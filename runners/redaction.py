"""Keeping secrets out of what a run records: redacted headers and URLs, scrubbed messages."""

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "********"
# Shorter values are not worth hiding and would mangle ordinary words if scrubbed.
MIN_SCRUB_LENGTH = 6
_SECRET_QUERY_NAME = re.compile(r"key|token|secret|sig|pass|auth|credential|code", re.IGNORECASE)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a known secret value replaced, longest first."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def shorten(text: str, limit: int, secrets: Iterable[str] = ()) -> str:
    """`text` scrubbed of `secrets`, white space folded, then cut to at most `limit` characters (with "…").

    The one way to shorten text a user or operator may read: scrubbing after a cut would leave the part of a secret
    that the cut kept (a key cut in half no longer matches the whole key).
    """
    text = " ".join(scrub(text, secrets).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub_json(value, secrets: Iterable[str]):
    """A JSON value with secrets scrubbed from every string in it."""
    secrets = list(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, list):
        return [scrub_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return {scrub(str(key), secrets): scrub_json(item, secrets) for key, item in value.items()}
    return value


def redact_url(url: str) -> str:
    """The URL with user info and secret-looking query values replaced (for the request record)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if _SECRET_QUERY_NAME.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def display_url(url: str) -> str:
    """The URL without user info and query, safe to put in an error message."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def host_and_port(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = "?"
    return f"{parts.hostname}:{port}"
