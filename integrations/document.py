"""The integration document: its shape, its rules, and errors with paths.

`parse_document` is the one parser/validator that the page, the admin and the
API go through. Shape and types are checked by pydantic (which gives each error
its location); the rules of DESIGN.md §3 are checked after, so that every
problem in a document is reported at once, each with a path a person can find.
"""

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pydantic
from pydantic import BaseModel, ConfigDict

from core import strict_json
from core.http_fields import header_value_problem
from core.network_policy import url_blocked_reason
from core.problems import Invalid, Problem, unstorable_strings
from integrations.catalogue import (
    DEFAULT_PARAMETERS,
    PARAMETER_ALIASES,
    RESERVED_BODY_KEYS,
    RUN_PARAMETERS,
    WIRE_NAMES,
    builtin_model,
    builtin_models,
    canonical_parameter,
)
from integrations.tls import ParsedTLS, TLSIn, check_tls

SECRET_PLACEHOLDER = "********"
HEADER_MAPPING_FIELDS = ("job_id", "user_id", "project_id", "run_id")
MAX_HEADERS = 50
MAX_MODELS = 200
MAX_NAME_LENGTH = 255
MAX_URL_LENGTH = 2048
MAX_SECRET_LENGTH = 16_384
MAX_HEADER_NAME_LENGTH = 256
MAX_HANDLER_NAME_LENGTH = 255  # a file name's limit on common file systems (longer ones fail with ENAMETOOLONG)
# RFC 9110 token characters.
# \A...\Z, not ^...$: "$" also matches before a trailing newline ("handler.py\n").
HEADER_NAME_RE = re.compile(r"\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
HANDLER_FILE_RE = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]*\.py\Z")
WIRE_NAME_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.-]{0,63}\Z")
IDENTIFIER_RE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")
# Dots that IDNA maps to "." (UTS #46): the HTTP client would turn "169。254。169。254" into 169.254.169.254.
NON_ASCII_DOTS = {"\u3002": "U+3002", "\uff0e": "U+FF0E", "\uff61": "U+FF61"}
# Headers that the HTTP client owns; setting them breaks the request.
RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}
# Query parameters that carry a credential (Azure's `api-key`, Google's `key`, `token`, a SAS `sig`, Azure API
# Management's `subscription-key`, Azure Functions' `code`, a SigV4 presigned URL's signature and session token...):
# compared case-insensitively. A URL is stored in clear, shown in reads and logged by proxies; a credential goes in a
# header.
CREDENTIAL_QUERY_NAMES = {
    "api-key",
    "api_key",
    "apikey",
    "x-api-key",
    "key",
    "token",
    "access_token",
    "sig",
    "subscription-key",
    "code",
    "client_secret",
    "password",
    "secret",
    "x-amz-signature",
    "x-amz-security-token",
}
COMPLETIONS_PATH = "/chat/completions"
# Form fields the token request itself sets (RFC 6749 sections 2.3.1 and 4.4.2), by what to use instead.
OAUTH2_RESERVED_PARAMS = {
    "grant_type": "the grant is always client_credentials",
    "client_id": "the client id comes from token",
    "client_secret": "the client secret comes from token",
    "scope": "use authentication_scope",
}
MAX_TOKEN_PARAMS = 20
MAX_TOKEN_PARAM_LENGTH = 2048


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CustomLLMConfigIn(_Strict):
    file_name: str
    class_name: str
    init_kwargs: dict[str, Any] = {}


class ModelPropertyIn(_Strict):
    name: str
    alias: str | None = None
    based_on: str | None = None
    supported_parameters: list[str] | None = None
    # Extension: run parameter -> the wire name this model takes it under (e.g. max_tokens -> max_completion_tokens).
    parameter_names: dict[str, str] | None = None


class IntegrationDocumentIn(_Strict):
    authentication_type: Literal["api_key", "oauth2", "none"] = "api_key"
    api_key_header: str | None = None
    api_key_value: str | None = None
    oauth2_token_url: str | None = None
    authentication_scope: str | None = None
    token: str | None = None
    model_properties: list[ModelPropertyIn]
    default_model: str | None = None
    endpoint: str
    custom_header_mapping: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    custom_llm_config: CustomLLMConfigIn | None = None
    # Extensions of the product page's document (README: "The integration document").
    oauth2_token_auth_method: Literal["client_secret_post", "client_secret_basic"] | None = None
    oauth2_token_params: dict[str, str] | None = None
    tls: TLSIn | None = None
    # Limits on what the runners send to the endpoint, all workers together (runners.limits).
    max_concurrency: int | None = None
    requests_per_minute: int | None = None


@dataclass(frozen=True)
class ParsedModel:
    name: str
    alias: str
    based_on: str | None
    declared_parameters: list[str] | None
    supported_parameters: list[str]
    # What the document said (None when it gave none), and the names in effect (based_on's, then the document's).
    declared_parameter_names: dict[str, str] | None = None
    parameter_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedDocument:
    authentication_type: str
    api_key_header: str
    api_key_value: str | None
    oauth2_token_url: str
    authentication_scope: str
    token: str | None
    endpoint: str
    default_model: str
    models: list[ParsedModel]
    custom_header_mapping: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    custom_llm_config: dict | None = None
    oauth2_token_auth_method: str = ""  # "" when not given: the runner finds the method (runners.auth)
    oauth2_token_params: dict[str, str] = field(default_factory=dict)
    tls: ParsedTLS | None = None
    max_concurrency: int | None = None
    requests_per_minute: int | None = None


ALLOWED_KEYS = {
    (): list(IntegrationDocumentIn.model_fields),
    ("model_properties",): list(ModelPropertyIn.model_fields),
    ("custom_llm_config",): list(CustomLLMConfigIn.model_fields),
    ("tls",): list(TLSIn.model_fields),
}

_TYPE_NAMES = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "int_type": "a whole number",
}


def _humanise(error: dict) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return Problem(loc, "This property is required.", kind)
    if kind == "extra_forbidden":
        parent = tuple(p for p in loc[:-1] if not isinstance(p, int))
        allowed = ALLOWED_KEYS.get(parent, [])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f' Did you mean "{hint[0]}"?' if hint else ""
        return Problem(loc, f'Unknown property "{loc[-1]}".{suggestion} Allowed here: {", ".join(allowed)}.', kind)
    if kind in _TYPE_NAMES:
        got = type(error.get("input")).__name__
        got = {"NoneType": "null", "dict": "an object", "list": "a list", "str": "a string"}.get(got, got)
        return Problem(loc, f"Must be {_TYPE_NAMES[kind]}, not {got}.", kind)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return Problem(loc, f"Must be one of {expected}.", kind)
    return Problem(loc, error["msg"].rstrip(".") + ".", kind)


def load_json(text: str) -> Any:
    """Parse JSON text (strictly: no NaN or Infinity, which jsonb refuses), turning syntax errors into a Problem with
    line and column."""
    try:
        return strict_json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(
            [Problem((), f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", "json_invalid")]
        ) from None
    except ValueError as exc:
        raise Invalid([Problem((), f"Not valid JSON: {exc}.", "json_invalid")]) from None
    except RecursionError:
        raise Invalid([Problem((), "Not valid JSON: nested too deeply.", "json_invalid")]) from None


def parse_document(raw: Any) -> ParsedDocument:
    """Validate a document (a dict or JSON text); raise Invalid listing every problem."""
    if isinstance(raw, str | bytes):
        raw = load_json(raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace"))
    if not isinstance(raw, dict):
        raise Invalid([Problem((), "The document must be a JSON object.", "dict_type")])
    shape_errors = unstorable_strings(raw, ())
    try:
        document = IntegrationDocumentIn.model_validate(raw)
    except pydantic.ValidationError as exc:
        shape_errors += [_humanise(e) for e in exc.errors()]
        # The rules still run on what is well-formed, so that every problem shows at once.
        document = _lenient(raw, exc)
        if document is None:
            raise Invalid(shape_errors) from None
    rule_errors: list[Problem] = []
    parsed = _check_rules(document, rule_errors)
    errors = shape_errors + [e for e in rule_errors if not _covered(e.loc, shape_errors)]
    if errors:
        raise Invalid(errors)
    return parsed


_AUTHENTICATION_KEYS = {
    "authentication_type",
    "api_key_header",
    "api_key_value",
    "oauth2_token_url",
    "authentication_scope",
    "token",
    "oauth2_token_auth_method",
    "oauth2_token_params",
}
# What a missing required property stands in as while the rules check the rest (its own error is already listed).
_PLACEHOLDERS = {"endpoint": "https://placeholder.invalid/v1", "model_properties": [], "name": "", "class_name": ""}


def _lenient(raw: dict, error: pydantic.ValidationError) -> IntegrationDocumentIn | None:
    """The document with its malformed members left out (required ones as placeholders), or None if that fails."""
    draft = json.loads(json.dumps(raw, default=str))
    for _ in range(4):
        for item in error.errors():
            loc = tuple(item["loc"])
            keys = [i for i, part in enumerate(loc) if isinstance(part, str)]
            if not keys:
                return None
            parent, member = _container(draft, loc[: keys[-1]]), loc[keys[-1]]
            if not isinstance(parent, dict):
                return None
            if member == "authentication_type":
                parent[member] = "none"
            elif item["type"] == "missing" and member in _PLACEHOLDERS:
                parent[member] = json.loads(json.dumps(_PLACEHOLDERS[member]))
            elif item["type"] != "missing":
                parent.pop(member, None)
            else:
                return None
        try:
            return IntegrationDocumentIn.model_validate(draft)
        except pydantic.ValidationError as again:
            error = again
    return None


def _container(document: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            document = document[part]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def _covered(loc: tuple, shape_errors: list[Problem]) -> bool:
    """A rule error about something that already has a shape error (or depends on the authentication type)."""
    if loc and loc[0] in _AUTHENTICATION_KEYS and any(e.loc[:1] == ("authentication_type",) for e in shape_errors):
        return True
    return any(loc[: len(e.loc)] == e.loc or e.loc[: len(loc)] == loc for e in shape_errors)


def _check_url(value: str, loc: tuple, errors: list[Problem]) -> None:
    if len(value) > MAX_URL_LENGTH:
        errors.append(Problem(loc, f"URL is longer than {MAX_URL_LENGTH} characters.", "url_too_long"))
        return
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        # Never quoted: a URL that cannot be parsed may still carry a password or a credential in its query.
        errors.append(
            Problem(loc, "Not a valid URL: check the host, the port (a number) and any [IPv6] brackets.", "url_invalid")
        )
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(
            Problem(loc, "Must be an http:// or https:// URL with a host, such as https://api.example.com/v1.")
        )
    elif "@" in parts.netloc:
        errors.append(
            Problem(loc, "Do not put credentials in the URL; use api_key_value, token or headers.", "url_userinfo")
        )
    elif any(ch.isspace() for ch in value):
        errors.append(Problem(loc, "URL must not contain spaces.", "url_invalid"))
    elif dots := sorted({NON_ASCII_DOTS[ch] for ch in parts.hostname if ch in NON_ASCII_DOTS}):
        errors.append(
            Problem(
                loc,
                f'The host name contains a dot that is not "." ({", ".join(dots)}): write it with ".".',
                "url_invalid",
            )
        )
    elif reason := url_blocked_reason(value):
        errors.append(Problem(loc, reason, "blocked_address"))
    elif parts.fragment:
        errors.append(Problem(loc, "Remove the #fragment: it is never sent to the server.", "url_fragment"))
    elif names := _credential_query_names(parts.query):
        errors.append(
            Problem(
                loc,
                f"The query string carries a credential ({', '.join(names)}): a URL is stored in clear, shown to "
                "every member and logged by proxies. Remove it from the URL and send it as a header instead: "
                'authentication_type "api_key" with api_key_header "api-key" (Azure OpenAI) or the header your '
                "provider documents, or a headers entry (header values are encrypted).",
                "url_credential",
            )
        )


def _credential_query_names(query: str) -> list[str]:
    names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    return sorted(name for name in names if name.lower() in CREDENTIAL_QUERY_NAMES)


def _check_endpoint(value: str, errors: list[Problem]) -> None:
    """The endpoint's own rules, after _check_url: it is a base URL that /chat/completions goes onto.

    Azure OpenAI's deployment URLs (`/openai/deployments/NAME`) answer 404 without `api-version` (Azure OpenAI
    REST reference, "Data plane - inference"), so that form needs one.
    """
    loc = ("endpoint",)
    before = len(errors)
    _check_url(value, loc, errors)
    if len(errors) > before:
        return
    parts = urlsplit(value)
    path = parts.path.rstrip("/")
    if path.lower().endswith(COMPLETIONS_PATH):
        base = urlunsplit(parts._replace(path=path[: -len(COMPLETIONS_PATH)] or "/"))
        errors.append(
            Problem(
                loc,
                f"The endpoint is the API's base URL: {COMPLETIONS_PATH} is added to it when a request goes out. "
                f"Remove {COMPLETIONS_PATH} from the end: {base}",
                "url_completions_path",
            )
        )
    elif "/openai/deployments/" in path.lower() and not any(
        name.lower() == "api-version" for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    ):
        errors.append(
            Problem(
                loc,
                "Azure OpenAI deployment URLs need an API version: add it as a query string, such as "
                f"{urlunsplit(parts._replace(query='api-version=2024-10-21'))}",
                "url_api_version",
            )
        )


def _check_header_name(name: str, loc: tuple, errors: list[Problem]) -> None:
    if len(name) > MAX_HEADER_NAME_LENGTH:
        errors.append(Problem(loc, f"Header names are at most {MAX_HEADER_NAME_LENGTH} characters.", "too_long"))
    elif not HEADER_NAME_RE.match(name):
        errors.append(
            Problem(loc, f'"{name}" is not a valid HTTP header name (letters, digits and -_ only).', "header_name")
        )
    elif name.lower() in RESERVED_HEADERS:
        errors.append(Problem(loc, f'"{name}" is set by the HTTP client and cannot be configured.', "header_name"))


def _check_header_value(value: str, loc: tuple, errors: list[Problem]) -> None:
    """A value the runner puts in a header as it is (core.http_fields): refused, never trimmed or re-encoded."""
    if len(value) > MAX_SECRET_LENGTH:
        errors.append(Problem(loc, f"Longer than {MAX_SECRET_LENGTH} characters.", "too_long"))
    elif problem := header_value_problem(value):
        errors.append(Problem(loc, problem, "header_value"))


def _required_text(value: str | None, loc: tuple, why: str, errors: list[Problem]) -> bool:
    if value is None or not value.strip():
        errors.append(Problem(loc, f"Required when {why}.", "missing"))
        return False
    return True


def _not_used(doc: IntegrationDocumentIn, names: tuple[str, ...], errors: list[Problem]) -> None:
    for name in names:
        if getattr(doc, name) is not None:
            errors.append(
                Problem(
                    (name,),
                    f'Not used with authentication_type "{doc.authentication_type}"; remove it.',
                    "not_applicable",
                )
            )


def _check_authentication(doc: IntegrationDocumentIn, errors: list[Problem]) -> None:
    if doc.authentication_type == "api_key":
        why = 'authentication_type is "api_key"'
        if _required_text(doc.api_key_header, ("api_key_header",), why, errors):
            _check_header_name(doc.api_key_header, ("api_key_header",), errors)
        if _required_text(doc.api_key_value, ("api_key_value",), why, errors):
            _check_header_value(doc.api_key_value, ("api_key_value",), errors)
        _not_used(
            doc,
            ("oauth2_token_url", "authentication_scope", "token", "oauth2_token_auth_method", "oauth2_token_params"),
            errors,
        )
    elif doc.authentication_type == "oauth2":
        if doc.oauth2_token_url is not None:
            _check_url(doc.oauth2_token_url, ("oauth2_token_url",), errors)
        if _required_text(doc.token, ("token",), 'authentication_type is "oauth2"', errors):
            _check_oauth2_token(doc.token, errors)
        if doc.authentication_scope is not None and len(doc.authentication_scope) > 1024:
            errors.append(Problem(("authentication_scope",), "Longer than 1024 characters.", "too_long"))
        _check_oauth2_token_params(doc.oauth2_token_params, errors)
        _not_used(doc, ("api_key_header", "api_key_value"), errors)
    else:
        _not_used(doc, tuple(sorted(_AUTHENTICATION_KEYS - {"authentication_type"})), errors)


def _check_oauth2_token_params(params: dict[str, str] | None, errors: list[Problem]) -> None:
    """Extra form fields of the token request (`audience` for Auth0, `resource` for Azure AD v1): plain strings
    that do not replace what the grant itself sends."""
    if not params:
        return
    if len(params) > MAX_TOKEN_PARAMS:
        errors.append(Problem(("oauth2_token_params",), f"At most {MAX_TOKEN_PARAMS} fields.", "too_long"))
        return
    for name, value in params.items():
        loc = ("oauth2_token_params", name)
        if name.lower() in OAUTH2_RESERVED_PARAMS:
            errors.append(
                Problem(
                    loc,
                    f'"{name}" is set by the token request itself ({OAUTH2_RESERVED_PARAMS[name.lower()]}); remove it.',
                    "reserved_parameter",
                )
            )
        elif not name.strip() or len(name) > MAX_HEADER_NAME_LENGTH:
            errors.append(Problem(loc, f"Field names are 1 to {MAX_HEADER_NAME_LENGTH} characters.", "value_error"))
        elif len(value) > MAX_TOKEN_PARAM_LENGTH:
            errors.append(Problem(loc, f"Longer than {MAX_TOKEN_PARAM_LENGTH} characters.", "too_long"))


def _check_oauth2_token(token: str, errors: list[Problem]) -> None:
    loc = ("token",)
    example = '"{\\"client_id\\": \\"...\\", \\"client_secret\\": \\"...\\"}"'
    if len(token) > MAX_SECRET_LENGTH:
        errors.append(Problem(loc, f"Longer than {MAX_SECRET_LENGTH} characters.", "too_long"))
        return
    try:
        credentials = json.loads(token)
    except ValueError:
        # Never echo the token: it holds the client secret.
        errors.append(Problem(loc, f"Must be a JSON string holding client_id and client_secret, like {example}."))
        return
    if not isinstance(credentials, dict):
        errors.append(Problem(loc, f"Must encode a JSON object with client_id and client_secret, like {example}."))
        return
    for key in ("client_id", "client_secret"):
        value = credentials.get(key)
        if not isinstance(value, str) or not value:
            errors.append(Problem(loc, f"The token's JSON must have a non-empty string {key}."))
    unknown = sorted(set(credentials) - {"client_id", "client_secret"})
    if unknown:
        errors.append(Problem(loc, f"The token's JSON has unknown keys: {', '.join(unknown)}."))


def _closest_aliases(text: str) -> list[str]:
    by_lower = {m.alias.lower(): m.alias for m in builtin_models()}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=3, cutoff=0.5)
    return [by_lower[c] for c in close]


def _check_model(index: int, model: ModelPropertyIn, errors: list[Problem]) -> ParsedModel | None:
    loc = ("model_properties", index)
    ok = True
    if not model.name.strip():
        errors.append(Problem((*loc, "name"), "Must not be empty.", "empty"))
        ok = False
    elif len(model.name) > MAX_NAME_LENGTH:
        errors.append(Problem((*loc, "name"), f"Longer than {MAX_NAME_LENGTH} characters.", "too_long"))
        ok = False
    alias = model.alias if model.alias is not None else model.name
    if model.alias is not None and not model.alias.strip():
        errors.append(Problem((*loc, "alias"), "Must not be empty; leave it out to use the name.", "empty"))
        ok = False
    elif len(alias) > MAX_NAME_LENGTH:
        errors.append(Problem((*loc, "alias"), f"Longer than {MAX_NAME_LENGTH} characters.", "too_long"))
        ok = False
    if model.based_on is not None and model.supported_parameters is not None:
        errors.append(
            Problem(
                (*loc, "based_on"),
                "Give either based_on or supported_parameters, not both.",
                "mutually_exclusive",
            )
        )
        return None
    if model.based_on is not None:
        builtin = builtin_model(model.based_on)
        if builtin is None:
            close = _closest_aliases(model.based_on)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            errors.append(
                Problem(
                    (*loc, "based_on"),
                    f'"{model.based_on}" is not a built-in model alias.{hint}',
                    "unknown_builtin_model",
                )
            )
            return None
        supported = list(builtin.supported_parameters)
        names = dict(builtin.parameter_names)
    elif model.supported_parameters is not None:
        supported = []
        for p_index, name in enumerate(model.supported_parameters):
            canonical = canonical_parameter(name)
            p_loc = (*loc, "supported_parameters", p_index)
            if canonical is None:
                close = difflib.get_close_matches(name, [*RUN_PARAMETERS, *PARAMETER_ALIASES], n=1)
                hint = f' Did you mean "{close[0]}"?' if close else ""
                errors.append(
                    Problem(
                        p_loc,
                        f'"{name}" is not a known parameter.{hint} Known: {", ".join(RUN_PARAMETERS)}.',
                        "unknown_parameter",
                    )
                )
                ok = False
            elif canonical in supported:
                errors.append(Problem(p_loc, f'"{name}" is listed more than once.', "duplicate"))
                ok = False
            else:
                supported.append(canonical)
    else:
        supported = list(DEFAULT_PARAMETERS)
    if model.based_on is None:
        names = {}
    declared_names = _check_parameter_names(model.parameter_names, supported, (*loc, "parameter_names"), errors)
    if not ok or declared_names is None:
        return None
    return ParsedModel(
        name=model.name,
        alias=alias,
        based_on=model.based_on,
        declared_parameters=list(model.supported_parameters) if model.supported_parameters is not None else None,
        supported_parameters=supported,
        declared_parameter_names=None if model.parameter_names is None else declared_names,
        parameter_names={**names, **declared_names},
    )


def _check_parameter_names(
    raw: dict[str, str] | None, supported: list[str], loc: tuple, errors: list[Problem]
) -> dict[str, str] | None:
    """The document's `parameter_names` with canonical keys ({} when absent), or None after adding its problems.

    A key must be one of the model's supported run parameters; a value is a JSON body key (letters, digits, `_`,
    `-`, `.`) that is neither the runner's own (`model`, `messages`, `stream`, `stream_options`) nor another
    parameter's wire name.
    """
    if raw is None:
        return {}
    names: dict[str, str] = {}
    count = len(errors)
    for key, wire in raw.items():
        canonical = canonical_parameter(key)
        if canonical is None or canonical not in supported:
            what = "not a known parameter" if canonical is None else "not one of this model's supported parameters"
            errors.append(
                Problem((*loc, key), f'"{key}" is {what}. Supported: {", ".join(supported)}.', "unknown_parameter")
            )
        elif not WIRE_NAME_RE.match(wire):
            errors.append(
                Problem(
                    (*loc, key),
                    "Must be the name of a request body key: letters, digits, _, - and . (at most 64).",
                    "wire_name",
                )
            )
        elif wire in RESERVED_BODY_KEYS:
            errors.append(Problem((*loc, key), f'"{wire}" is a key the runner sets itself; pick another.', "wire_name"))
        elif canonical in names:
            errors.append(Problem((*loc, key), f'"{key}" is given more than once.', "duplicate"))
        else:
            names[canonical] = wire
    wires: dict[str, str] = {}
    for name in supported:
        wire = names.get(name) or WIRE_NAMES.get(name, name)
        if wire in wires and (name in names or wires[wire] in names):
            key = name if name in names else wires[wire]
            errors.append(Problem((*loc, key), f'"{wire}" is already the wire name of "{wires[wire]}".', "duplicate"))
        wires[wire] = name
    return names if len(errors) == count else None


def _check_models(doc: IntegrationDocumentIn, errors: list[Problem]) -> list[ParsedModel]:
    if not doc.model_properties:
        errors.append(Problem(("model_properties",), "Add at least one model.", "too_short"))
        return []
    if len(doc.model_properties) > MAX_MODELS:
        errors.append(Problem(("model_properties",), f"At most {MAX_MODELS} models.", "too_long"))
        return []
    parsed = []
    names: dict[str, int] = {}
    aliases: dict[str, int] = {}
    for index, model in enumerate(doc.model_properties):
        result = _check_model(index, model, errors)
        if result is None:
            continue
        if result.name in names:
            errors.append(
                Problem(
                    ("model_properties", index, "name"),
                    f'"{result.name}" is already the name of model_properties[{names[result.name]}].',
                    "duplicate",
                )
            )
            continue
        field_name = "alias" if model.alias is not None else "name"
        if result.alias in aliases:
            errors.append(
                Problem(
                    ("model_properties", index, field_name),
                    f'Alias "{result.alias}" is already used by model_properties[{aliases[result.alias]}]; '
                    "aliases must be unique.",
                    "duplicate_alias",
                )
            )
            continue
        names[result.name] = index
        aliases[result.alias] = index
        parsed.append(result)
    return parsed


def _check_headers(doc: IntegrationDocumentIn, errors: list[Problem]) -> None:
    if doc.custom_header_mapping:
        seen: dict[str, str] = {}
        for key, header in doc.custom_header_mapping.items():
            loc = ("custom_header_mapping", key)
            if key not in HEADER_MAPPING_FIELDS:
                errors.append(
                    Problem(
                        loc,
                        f'"{key}" cannot be mapped; use one of {", ".join(HEADER_MAPPING_FIELDS)}.',
                        "unknown_field",
                    )
                )
                continue
            _check_header_name(header, loc, errors)
            if header.lower() in seen:
                errors.append(
                    Problem(loc, f'Header "{header}" is already mapped from {seen[header.lower()]}.', "duplicate")
                )
            seen[header.lower()] = key
    if doc.headers:
        if len(doc.headers) > MAX_HEADERS:
            errors.append(Problem(("headers",), f"At most {MAX_HEADERS} headers, not {len(doc.headers)}.", "too_long"))
            return
        seen_names: set[str] = set()
        for name, value in doc.headers.items():
            loc = ("headers", name)
            _check_header_name(name, loc, errors)
            _check_header_value(value, loc, errors)
            if name.lower() in seen_names:
                errors.append(Problem(loc, f'Header "{name}" is given twice (names are case-insensitive).'))
            seen_names.add(name.lower())


def _check_custom_llm(doc: IntegrationDocumentIn, errors: list[Problem]) -> dict | None:
    config = doc.custom_llm_config
    if config is None:
        return None
    if len(config.file_name) > MAX_HANDLER_NAME_LENGTH:
        errors.append(
            Problem(
                ("custom_llm_config", "file_name"),
                f"File names are at most {MAX_HANDLER_NAME_LENGTH} characters.",
                "too_long",
            )
        )
    elif not HANDLER_FILE_RE.match(config.file_name) or ".." in config.file_name:
        errors.append(
            Problem(
                ("custom_llm_config", "file_name"),
                "Must be a bare file name ending in .py (no folders), such as my_handler.py.",
                "handler_file",
            )
        )
    if len(config.class_name) > MAX_HANDLER_NAME_LENGTH or not IDENTIFIER_RE.match(config.class_name):
        errors.append(Problem(("custom_llm_config", "class_name"), "Must be a Python class name.", "handler_class"))
    try:
        json.dumps(config.init_kwargs)
    except (TypeError, ValueError):
        errors.append(Problem(("custom_llm_config", "init_kwargs"), "Must be plain JSON values."))
    return config.model_dump()


# Above these a limit limits nothing a worker fleet can send; a typo (an extra zero) is caught instead of stored.
MAX_CONCURRENCY_LIMIT = 10_000
REQUESTS_PER_MINUTE_LIMIT = 1_000_000


def _check_limits(doc: IntegrationDocumentIn, errors: list[Problem]) -> None:
    for key, most, what in (
        ("max_concurrency", MAX_CONCURRENCY_LIMIT, "requests in flight at once"),
        ("requests_per_minute", REQUESTS_PER_MINUTE_LIMIT, "requests in any 60 seconds"),
    ):
        value = getattr(doc, key)
        if value is not None and not 1 <= value <= most:
            errors.append(Problem((key,), f"Must be a whole number from 1 to {most:,} ({what}).", "limit_range"))


def _check_rules(doc: IntegrationDocumentIn, errors: list[Problem]) -> ParsedDocument:
    _check_endpoint(doc.endpoint, errors)
    _check_authentication(doc, errors)
    models = _check_models(doc, errors)
    default_model = doc.default_model
    if default_model is None:
        default_model = models[0].name if models else ""
    elif doc.model_properties and default_model not in {m.name for m in doc.model_properties}:
        names = ", ".join(f'"{m.name}"' for m in doc.model_properties)
        errors.append(Problem(("default_model",), f'"{default_model}" is not the name of a model; use one of {names}.'))
    _check_headers(doc, errors)
    custom_llm_config = _check_custom_llm(doc, errors)
    tls = check_tls(doc.tls, errors)
    _check_limits(doc, errors)
    return ParsedDocument(
        authentication_type=doc.authentication_type,
        api_key_header=doc.api_key_header or "",
        api_key_value=doc.api_key_value,
        oauth2_token_url=doc.oauth2_token_url or "",
        authentication_scope=doc.authentication_scope or "",
        token=doc.token,
        endpoint=doc.endpoint,
        default_model=default_model,
        models=models,
        custom_header_mapping=dict(doc.custom_header_mapping or {}),
        headers=dict(doc.headers or {}),
        custom_llm_config=custom_llm_config,
        oauth2_token_auth_method=doc.oauth2_token_auth_method or "",
        oauth2_token_params=dict(doc.oauth2_token_params or {}),
        tls=tls,
        max_concurrency=doc.max_concurrency,
        requests_per_minute=doc.requests_per_minute,
    )
