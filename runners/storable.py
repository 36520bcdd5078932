"""Provider answers made storable: JSON parsed the way the database can hold it, text PostgreSQL accepts.

PostgreSQL refuses NUL in `text` and `\\u0000` in `jsonb`, lone UTF-16 surrogates anywhere, and the non-standard
JSON numbers `NaN` / `Infinity`; Python's json refuses integers of more than 4,300 digits
(sys.get_int_max_str_digits) and nesting deeper than its recursion limit. Whatever a provider sends, the runner
stores it in the same attempt (after the changes below) or fails the run with a clear error, never leaving it
`running`:

- NUL and lone surrogates in text and property names become U+FFFD (the replacement character);
- NaN and infinite numbers become null;
- integers of more than MAX_INTEGER_DIGITS digits are kept as their digits in a string;
- objects and lists nested deeper than MAX_STORED_DEPTH are replaced by the string DEEP_PLACEHOLDER.
"""

import json
import math
import re
from typing import Any

MAX_STORED_DEPTH = 64
MAX_INTEGER_DIGITS = 4000
DEEP_PLACEHOLDER = f"[nested deeper than {MAX_STORED_DEPTH} levels: not stored]"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _parse_int(digits: str) -> int | str:
    return int(digits) if len(digits.lstrip("-")) <= MAX_INTEGER_DIGITS else digits


def _parse_constant(name: str) -> None:
    return None  # NaN, Infinity, -Infinity: not JSON (RFC 8259 section 6), sent by some servers anyway


def load_json(data: bytes | str) -> Any:
    """Parse a provider's JSON; ValueError when it is not JSON or nests deeper than the parser can go."""
    try:
        return json.loads(data, parse_int=_parse_int, parse_constant=_parse_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def storable_text(text: str) -> str:
    """`text` with NUL characters and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def storable_json(value: Any, *, depth: int = 0) -> Any:
    """A copy of `value` that json.dumps and PostgreSQL's jsonb both accept (see the module's rules)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value if value.bit_length() <= MAX_INTEGER_DIGITS * 3 else "[integer too large to store]"
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_STORED_DEPTH:
            return DEEP_PLACEHOLDER
        if isinstance(value, dict):
            return {storable_text(str(key)): storable_json(item, depth=depth + 1) for key, item in value.items()}
        return [storable_json(item, depth=depth + 1) for item in value]
    return storable_text(str(value))
