"""Whether a header value can be sent as it is, judged as the runners' HTTP client judges it.

One rule for the integration document (refused at save) and the runner (refused before sending, for a value that
was stored before the rule or that arrives at run time, such as an OAuth2 access token):

- httpx encodes a `str` header value as ASCII (`httpx._models._normalize_header_value`): any other character raises
  UnicodeEncodeError before anything is sent.
- h11 (`h11/_abnf.py` `field_value`, checked in `h11/_headers.py: normalize_and_validate`) accepts a value only if
  it starts and ends with a visible character, with only spaces and tabs between words: a leading or trailing space
  or tab, and CR, LF, NUL, form feed and vertical tab anywhere, raise LocalProtocolError.
- RFC 9110 section 5.5 (`field-value = *field-content`, `field-vchar = VCHAR / obs-text`) also excludes the other
  control characters (U+0001-U+001F but tab, and U+007F), which h11 lets through and servers may refuse or
  mangle.

So a value is sendable when it is empty, or visible ASCII characters (U+0021-U+007E) with single or repeated spaces
and tabs only between them. Messages say what and where (a 1-based character position), never the value: header
values are secrets.
"""

import re

_SENDABLE = re.compile(r"\A(?:[\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?)?\Z")


def header_value_problem(value: str) -> str | None:
    """None if `value` can be sent as a header value as it is, else a sentence saying why not (no part of it)."""
    if _SENDABLE.match(value):
        return None
    if value[:1] in (" ", "\t") or value[-1:] in (" ", "\t"):
        where = "starts" if value[:1] in (" ", "\t") else "ends"
        return (
            f"The value {where} with a space or tab, which the HTTP client refuses to send (RFC 9110 section 5.5): "
            "remove it (a value is never trimmed for you)."
        )
    for position, character in enumerate(value, start=1):
        if character in "\r\n":
            return f"Character {position} is a line break: header values are one line (RFC 9110 section 5.5)."
        if ord(character) > 0x7F:
            return (
                f"Character {position} is not ASCII: the HTTP client sends header values as ASCII only. Check for a "
                "typographic quote or dash pasted with the value, or percent-encode it if the server expects that."
            )
        if (ord(character) < 0x20 and character != "\t") or ord(character) == 0x7F:
            return f"Character {position} is a control character, which HTTP header values cannot carry."
    return "The value cannot be sent as an HTTP header."
