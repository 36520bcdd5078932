"""Keeping secrets out of what a run records: redacted headers and URLs, scrubbed messages."""

import base64
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "********"
# A secret is hidden wherever PIECE_LENGTH or more of its consecutive characters appear (a key cut in half, or its
# tail quoted as "sk-...abcd1234", is still a piece of it). A secret word shorter than that cannot be told from an
# ordinary word by its characters alone: it is hidden only where it stands as a whole word, and one shorter than
# MIN_WHOLE_WORD is not hidden at all (it would mangle ordinary text, and protects nothing worth the name).
PIECE_LENGTH = 8
MIN_WHOLE_WORD = 4
_SECRET_QUERY_NAME = re.compile(r"key|token|secret|sig|pass|auth|credential|code", re.IGNORECASE)
# Where secrets stand in text: runs of characters between white space, quotes and JSON punctuation.
_WORD = re.compile(r"[^\s\"'`<>(){}\[\],;]+")
_LONG_WORD = re.compile(_WORD.pattern.removesuffix("+") + f"{{{PIECE_LENGTH},}}")
_WORD_CHARACTER = r"[A-Za-z0-9_\-]"


def secret_forms(value: str) -> set[str]:
    """The forms a secret travels in: as given, URL-encoded (RFC 3986 and form encoding), JSON-escaped."""
    return {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}


def basic_credentials(user: str, password: str) -> str:
    """The value of an `Authorization: Basic` header for user and password (RFC 7617 section 2)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(frozen=True)
class _Pieces:
    whole: tuple[str, ...]  # every form, longest first: replaced wherever it occurs
    grams: frozenset[str]  # every PIECE_LENGTH-character piece of every form
    short_words: re.Pattern | None  # forms shorter than PIECE_LENGTH, as whole words


@functools.lru_cache(maxsize=1024)
def _pieces(secrets: frozenset[str]) -> _Pieces:
    forms = {form for secret in secrets for form in secret_forms(secret)}
    words = {word for form in forms for word in _WORD.findall(form)}
    grams = {word[i : i + PIECE_LENGTH] for word in words if len(word) >= PIECE_LENGTH for i in range(len(word) - 7)}
    # Only a secret that is itself one short word (not the "Bearer" of a longer one) is hidden as a whole word.
    short = sorted((f for f in forms if MIN_WHOLE_WORD <= len(f) < PIECE_LENGTH and _WORD.fullmatch(f)), key=len)
    short.reverse()
    pattern = None
    if short:
        alternatives = "|".join(re.escape(word) for word in short)
        pattern = re.compile(f"(?<!{_WORD_CHARACTER})(?:{alternatives})(?!{_WORD_CHARACTER})")
    whole = tuple(sorted((f for f in forms if len(f) >= PIECE_LENGTH), key=len, reverse=True))
    return _Pieces(whole=whole, grams=frozenset(grams), short_words=pattern)


def _piece_spans(text: str, grams: frozenset[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _LONG_WORD.finditer(text):
        word, offset = match.group(), match.start()
        for i in range(len(word) - PIECE_LENGTH + 1):
            if word[i : i + PIECE_LENGTH] in grams:
                start, end = offset + i, offset + i + PIECE_LENGTH
                if spans and start <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
    return spans


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret hidden as ********: whole, in every form of `secret_forms`, and every piece of
    PIECE_LENGTH or more consecutive characters of one (see the rule above for shorter secrets)."""
    secrets = frozenset(s for s in secrets if s)
    if not text or not secrets:
        return text
    pieces = _pieces(secrets)
    for form in pieces.whole:
        if form in text:
            text = text.replace(form, REDACTED)
    if pieces.grams:
        spans = _piece_spans(text, pieces.grams)
        for start, end in reversed(spans):
            text = text[:start] + REDACTED + text[end:]
    if pieces.short_words is not None:
        text = pieces.short_words.sub(REDACTED, text)
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
    secrets = frozenset(secrets)
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
