"""Code metrics: deterministic checks of an output, scored without a judge model.

A code metric's `code` configuration (validated by code_config_clean when the metric is saved):

    {"check": "exact_match" | "contains" | "regex" | "valid_json" | "json_schema" | "numeric_close",
     "reference": {"column": "expected"} | {"value": ...},   # every check but valid_json
     "ignore_case": false, "ignore_whitespace": false,       # exact_match, contains (regex: ignore_case)
     "match": "search" | "full",                             # regex: anywhere (default) or the whole output
     "abs_tol": 0, "rel_tol": 1e-9, "score": "pass" | "distance"}   # numeric_close

The reference is a dataset column (a dotted path walks into a JSONL object: prompts.templating.variable_value) or a
constant: the expected text, the pattern (Python `re` syntax, compiled when saved), the JSON schema (checked
against its meta-schema when saved), or the number. Each check scores 1 (pass) or 0 (fail), with a reason;
numeric_close with "score": "distance" scores 1 - |output - reference| / max(|reference|, 1), at least 0.
A reference that cannot be read (a row without the column, a column that holds no valid pattern, schema or number)
is an error on that score (CodeCheckError), not a 0.
"""

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import regex
from jsonschema.exceptions import SchemaError

from core.problems import Invalid, Problem
from prompts.templating import variable_value

CHECKS = {
    "exact_match": "Exact match",
    "contains": "Contains",
    "regex": "Regular expression",
    "valid_json": "Valid JSON",
    "json_schema": "Matches a JSON schema",
    "numeric_close": "Numeric closeness",
}
TEXT_CHECKS = ("exact_match", "contains")
# A pattern may take at most this long on one output: catastrophic backtracking ((a+)+$ on "aaaa…b") is stopped by
# the `regex` package's timeout (Python's `re` has none) and recorded as an error on that score.
REGEX_TIMEOUT_SECONDS = 0.25
MAX_REFERENCE_CHARS = 100_000
MAX_REASON_CHARS = 300


class CodeCheckError(ValueError):
    """The check cannot be made on this output (its reference cannot be read, or the pattern timed out)."""


@dataclass(frozen=True)
class CodeVerdict:
    score: float
    reason: str


def _number(value: Any) -> float | None:
    """A finite number from a JSON number or its text; None for anything else (NaN and infinities included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> Any:
    """json.loads as RFC 8259 reads it: NaN, Infinity and -Infinity (which Python's json accepts) are errors."""
    return json.loads(text, parse_constant=_reject_constant)


def code_config_clean(raw: Any) -> dict:
    """The configuration with defaults filled in; Invalid lists every problem, located under ("code", ...)."""
    if not isinstance(raw, dict):
        raise Invalid([Problem(("code",), 'An object such as {"check": "exact_match", ...}.', "dict_type")])
    errors: list[Problem] = []
    check = raw.get("check")
    if check not in CHECKS:
        raise Invalid([Problem(("code", "check"), f"One of: {', '.join(CHECKS)}.", "enum")])
    allowed = {"check", "reference"}
    clean: dict[str, Any] = {"check": check}
    if check in (*TEXT_CHECKS, "regex"):
        allowed.add("ignore_case")
    if check in TEXT_CHECKS:
        allowed.add("ignore_whitespace")
    if check == "regex":
        allowed.add("match")
    if check == "numeric_close":
        allowed |= {"abs_tol", "rel_tol", "score"}
    for key in raw:
        if key not in allowed:
            errors.append(Problem(("code", key), f'"{check}" takes no "{key}".', "extra_forbidden"))
    for key in ("ignore_case", "ignore_whitespace"):
        if key in allowed:
            value = raw.get(key, False)
            if not isinstance(value, bool):
                errors.append(Problem(("code", key), "true or false.", "bool_type"))
            clean[key] = value is True
    if check == "regex":
        clean["match"] = raw.get("match", "search")
        if clean["match"] not in ("search", "full"):
            errors.append(Problem(("code", "match"), '"search" (anywhere) or "full" (the whole output).', "enum"))
    if check == "numeric_close":
        for key, default in (("abs_tol", 0.0), ("rel_tol", 1e-9)):
            given = raw.get(key, default)
            value = None if isinstance(given, str) else _number(given)
            if value is None or value < 0:
                errors.append(Problem(("code", key), "A number of 0 or more.", "number_range"))
            clean[key] = value
        clean["score"] = raw.get("score", "pass")
        if clean["score"] not in ("pass", "distance"):
            errors.append(Problem(("code", "score"), '"pass" (0 or 1) or "distance".', "enum"))
    if check == "valid_json":
        if "reference" in raw:
            errors.append(Problem(("code", "reference"), "valid_json takes no reference.", "extra_forbidden"))
    else:
        reference = _reference_clean(check, raw.get("reference"), clean, errors)
        if reference is not None:
            clean["reference"] = reference
    if errors:
        raise Invalid(errors)
    return clean


def _reference_clean(check: str, raw: Any, clean: dict, errors: list[Problem]) -> dict | None:
    loc = ("code", "reference")
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"column"} >= raw.keys() or {"value"} >= raw.keys()):
        errors.append(Problem(loc, 'Either {"column": "expected"} or {"value": ...}.', "reference"))
        return None
    if "column" in raw:
        column = raw["column"]
        if not isinstance(column, str) or not column.strip():
            errors.append(Problem((*loc, "column"), "A dataset column (or a dotted path into one).", "string_type"))
            return None
        return {"column": column.strip()}
    value = raw["value"]
    loc = (*loc, "value")
    if check == "json_schema":
        if isinstance(value, str):
            try:
                value = strict_json(value)
            except ValueError:
                errors.append(Problem(loc, "The JSON schema is not JSON.", "json_invalid"))
                return None
        if not isinstance(value, dict | bool):
            errors.append(Problem(loc, "A JSON schema (an object).", "dict_type"))
            return None
        try:
            jsonschema.validators.validator_for(value).check_schema(value)
        except SchemaError as exc:
            where = "/".join(str(part) for part in exc.path) or "(top)"
            errors.append(Problem(loc, f"Not a valid JSON schema at {where}: {exc.message}", "json_schema"))
            return None
        return {"value": value}
    if check == "numeric_close":
        number = _number(value)
        if number is None:
            errors.append(Problem(loc, "A finite number.", "float_type"))
            return None
        return {"value": number}
    if not isinstance(value, str) or not value or len(value) > MAX_REFERENCE_CHARS:
        errors.append(Problem(loc, f"Text of 1 to {MAX_REFERENCE_CHARS} characters.", "string_type"))
        return None
    if check == "regex":
        try:
            _compile(value, ignore_case=clean.get("ignore_case", False))
        except CodeCheckError as exc:
            errors.append(Problem(loc, str(exc), "regex"))
            return None
    return {"value": value}


def _compile(pattern: str, *, ignore_case: bool) -> "regex.Pattern":
    """The pattern as Python's `re` reads it (its error message, with the position), run by `regex` for its timeout."""
    flags = re.IGNORECASE if ignore_case else 0
    try:
        re.compile(pattern, flags)
        return regex.compile(pattern, regex.V0 | (regex.IGNORECASE if ignore_case else 0))
    except (re.error, regex.error) as exc:
        raise CodeCheckError(f"Not a valid regular expression: {exc}") from None


def code_columns(config: dict) -> list[str]:
    """The dataset columns (dotted paths) the check reads."""
    column = config.get("reference", {}).get("column")
    return [column] if column else []


def code_describe(config: dict) -> str:
    """The check for people: 'Exact match with {{expected}}', 'Valid JSON'."""
    label = CHECKS.get(config.get("check"), "Check")
    reference = config.get("reference")
    if not reference:
        return label
    if "column" in reference:
        return f"{label} · {{{{{reference['column']}}}}}"
    value = reference["value"]
    text = value if isinstance(value, str) else json.dumps(value)
    return f"{label} · {text[:60]}{'…' if len(text) > 60 else ''}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"


def _normalize(text: str, config: dict) -> str:
    if config.get("ignore_whitespace"):
        text = " ".join(text.split())
    if config.get("ignore_case"):
        text = text.casefold()
    return text


def _reference(config: dict, row: dict | None) -> Any:
    reference = config["reference"]
    if "value" in reference:
        return reference["value"]
    column = reference["column"]
    value = variable_value(row or {}, column) if row is not None else None
    if value is None:
        raise CodeCheckError(f"This row has no value for {{{{{column}}}}}.")
    return value


def code_score(config: dict, output: str | None, row: dict | None) -> CodeVerdict:
    """Score one output (None counts as empty text) against the row's values (None outside an evaluation).

    Raises CodeCheckError when the reference cannot be read or the pattern runs past REGEX_TIMEOUT_SECONDS.
    """
    check = config["check"]
    text = output or ""
    if check == "valid_json":
        try:
            strict_json(text)
        except (ValueError, RecursionError) as exc:
            return CodeVerdict(0.0, f"Not valid JSON: {str(exc)[:MAX_REASON_CHARS]}")
        return CodeVerdict(1.0, "Valid JSON.")
    reference = _reference(config, row)
    if check in TEXT_CHECKS:
        expected = _normalize(str(reference), config)
        got = _normalize(text, config)
        passed = got == expected if check == "exact_match" else expected in got
        verb = "equals" if check == "exact_match" else "contains"
        return CodeVerdict(
            1.0 if passed else 0.0, f'The output {"" if passed else "not "}{verb} "{_excerpt(str(reference))}".'
        )
    if check == "regex":
        pattern = _compile(str(reference), ignore_case=config.get("ignore_case", False))
        find = pattern.fullmatch if config.get("match") == "full" else pattern.search
        try:
            found = find(text, timeout=REGEX_TIMEOUT_SECONDS)
        except TimeoutError:
            raise CodeCheckError(
                f"The pattern took longer than {REGEX_TIMEOUT_SECONDS} s on this output (catastrophic backtracking?)."
            ) from None
        return CodeVerdict(1.0 if found else 0.0, "The pattern matches." if found else "The pattern does not match.")
    if check == "json_schema":
        schema = reference
        if isinstance(schema, str):
            try:
                schema = strict_json(schema)
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except (ValueError, SchemaError):
                raise CodeCheckError("The row's JSON schema is not a valid JSON schema.") from None
        try:
            document = strict_json(text)
        except (ValueError, RecursionError) as exc:
            return CodeVerdict(0.0, f"Not valid JSON: {str(exc)[:MAX_REASON_CHARS]}")
        validator = jsonschema.validators.validator_for(schema)(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is None:
            return CodeVerdict(1.0, "Matches the schema.")
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        return CodeVerdict(0.0, f"At {where}: {error.message[:MAX_REASON_CHARS]}")
    # numeric_close
    expected = _number(reference)
    if expected is None:
        raise CodeCheckError(f'The reference "{_excerpt(str(reference))}" is not a finite number.')
    got = _number(text)
    if got is None:
        return CodeVerdict(0.0, f'The output "{_excerpt(text)}" is not a finite number.')
    if config.get("score") == "distance":
        score = max(0.0, 1.0 - abs(got - expected) / max(abs(expected), 1.0))
        return CodeVerdict(score, f"{got:g} against {expected:g}.")
    passed = math.isclose(got, expected, rel_tol=config.get("rel_tol", 1e-9), abs_tol=config.get("abs_tol", 0.0))
    return CodeVerdict(1.0 if passed else 0.0, f"{got:g} is {'' if passed else 'not '}close to {expected:g}.")
