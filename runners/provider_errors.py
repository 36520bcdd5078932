"""Error objects a provider sends where an answer was expected: in an HTTP 200 body or as an event of a stream.

The shapes seen in the field, all read here:
- OpenAI and most gateways: `{"error": {"message": str, "type": str, "code": str | int | null, "param": ...}}`;
  OpenRouter puts the upstream HTTP status in `code` (`{"error": {"code": 502, "message": "..."}}`), also in the
  middle of a stream;
- vLLM: `{"object": "error", "message": str, "type": str, "code": int}`;
- TGI and some proxies: `{"error": str, "error_type": str}`;
- Anthropic-style events: `{"type": "error", "error": {"type": "overloaded_error", "message": str}}`.

`EmbeddedError.status` is the HTTP status the error stands for: its code when that is a number from 400 to 599,
else one known from its type or code name (rate limits 429, overload and server errors 5xx, authentication 401,
missing models 404), else None (unknown: the runner treats it as a permanent provider error).
"""

from dataclasses import dataclass
from typing import Any

_STATUS_BY_NAME = {
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "too_many_requests": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "internal_error": 500,
    "internal_server_error": 500,
    "api_error": 500,
    "overloaded_error": 529,
    "overloaded": 503,
    "service_unavailable": 503,
    "timeout": 504,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "permission_error": 403,
    "permission_denied": 403,
    "model_not_found": 404,
    "not_found_error": 404,
    "invalid_request_error": 400,
    "bad_request": 400,
    "badrequesterror": 400,
    "context_length_exceeded": 400,
}


@dataclass(frozen=True)
class EmbeddedError:
    message: str | None
    code: str | None
    type: str | None

    @property
    def status(self) -> int | None:
        if self.code and self.code.isdigit() and 400 <= int(self.code) <= 599:
            return int(self.code)
        for name in (self.code, self.type):
            if name and name.lower() in _STATUS_BY_NAME:
                return _STATUS_BY_NAME[name.lower()]
        return None

    @property
    def label(self) -> str:
        """`code` and `type` as the provider named them, for the run's message."""
        names = [f'error code "{self.code}"' if self.code else "", f'type "{self.type}"' if self.type else ""]
        return ", ".join(name for name in names if name)


def _name(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        return str(value)[:80] or None
    return None


def embedded_error(payload: Any) -> EmbeddedError | None:
    """The error object in `payload` (a parsed JSON body or event), or None when it is not one."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict) and error:
        message = error.get("message") or error.get("error_description") or error.get("detail")
        return EmbeddedError(
            message if isinstance(message, str) else None,
            _name(error.get("code")) or _name(error.get("status")),
            _name(error.get("type")),
        )
    if isinstance(error, str) and error:
        return EmbeddedError(error, _name(payload.get("code")), _name(payload.get("error_type")))
    if payload.get("object") == "error":
        message = payload.get("message")
        return EmbeddedError(
            message if isinstance(message, str) else None, _name(payload.get("code")), _name(payload.get("type"))
        )
    return None
