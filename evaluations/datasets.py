"""Parsing a dataset file (CSV or JSONL) into columns and rows, with an error per row and column.

Errors are `Problem`s, like the integration document's, so that the pages show them next to the
upload and the API answers 422 with their `loc`. Rows are numbered from 1 as people count them: in CSV
the header is not a row, so "row 3" is the file's fourth record.

Files as people export them: a CSV may be separated by commas, semicolons (spreadsheets in locales with a decimal
comma), tabs or pipes; empty cells are kept (only a variable a prompt uses needs a value, checked when an evaluation
starts); JSON Lines values may be objects and lists, reached with dotted variables ({{q.text}}).
"""

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from core.problems import Invalid, Problem
from prompts.templating import NAME_RE

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
MAX_COLUMNS = 50
MAX_VALUE_LENGTH = 50_000
MAX_ERRORS = 50
FORMATS = ("csv", "jsonl")
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class ParsedDataset:
    format: str
    columns: list[str]
    rows: list[dict[str, Any]]  # CSV: text; JSONL: text, or objects and lists as they are; None for null
    delimiter: str | None = None  # CSV only


class _Errors(list):
    """A list of DocumentErrors that stops growing (and says how many it left out) at MAX_ERRORS."""

    left_out = 0

    def add(self, loc: tuple, message: str, kind: str = "value_error") -> None:
        if len(self) < MAX_ERRORS:
            self.append(Problem(loc, message, kind))
        else:
            self.left_out += 1

    def raise_if_any(self) -> None:
        if not self:
            return
        errors = list(self)
        if self.left_out:
            errors.append(Problem(("file",), f"… and {self.left_out} more problem(s).", "too_many_errors"))
        raise Invalid(errors)


def detect_format(*, text: str, file_name: str = "") -> str:
    lowered = file_name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is an error that says where."""
    if len(data) > MAX_BYTES:
        raise Invalid([Problem(("file",), f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", "too_large")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Invalid(
            [
                Problem(
                    ("file",),
                    f"The file is not UTF-8 text (byte {exc.start + 1}, line {line});"
                    " save it as UTF-8 and upload it again.",
                    "encoding",
                )
            ]
        ) from None


def parse_dataset(*, text: str, format: str | None = None, file_name: str = "") -> ParsedDataset:
    """Columns and rows of a CSV (header row first) or JSONL (one object per line) text; raise Invalid."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise Invalid([Problem(("file",), f"The data is larger than {MAX_BYTES // (1024 * 1024)} MB.", "too_large")])
    if not text.strip():
        raise Invalid([Problem(("file",), "The dataset is empty.", "empty")])
    if format in (None, "", "auto"):
        format = detect_format(text=text, file_name=file_name)
    if format not in FORMATS:
        raise Invalid([Problem(("format",), 'Must be "csv" or "jsonl".', "literal_error")])
    text = text.removeprefix("\ufeff")
    if format == "jsonl":
        columns, rows = _parse_jsonl(text)
        return ParsedDataset(format=format, columns=columns, rows=rows)
    delimiter = detect_delimiter(text=text, file_name=file_name)
    # A single column has no separator: its values may hold commas and semicolons. The unit separator (U+001F)
    # stands in for one, since no dataset value is written with it.
    columns, rows = _parse_csv(text, delimiter or "\x1f")
    return ParsedDataset(format=format, columns=columns, rows=rows, delimiter=delimiter)


def detect_delimiter(*, text: str, file_name: str = "") -> str | None:
    """The CSV's separator: tab for a .tsv file, else the one of DELIMITERS that the header row uses most; None when
    the header has none of them (a single column).

    Column names are variable names (letters, digits, _), so any of DELIMITERS in the header row separates
    columns. The data rows are not consulted: a value may hold any of these characters.
    """
    if file_name.lower().endswith(".tsv"):
        return "\t"
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])  # ties: the earlier in DELIMITERS
    return best if counts[best] else None


def _check_columns(columns: list[str], errors: _Errors, *, where: str) -> None:
    if len(columns) > MAX_COLUMNS:
        errors.add(("columns",), f"{where} has {len(columns)} columns; at most {MAX_COLUMNS}.", "too_many_columns")
    seen: set[str] = set()
    for position, name in enumerate(columns, start=1):
        if not name:
            errors.add(("columns", position), f"{where}: column {position} has no name.", "column_name")
        elif not NAME_RE.fullmatch(name):
            errors.add(
                ("columns", name),
                f"{where}: column '{name}' is not a variable name (letters, digits and _, not starting with a digit),"
                " so a prompt could not use it as {{" + name + "}}.",
                "column_name",
            )
        elif name in seen:
            errors.add(("columns", name), f"{where}: column '{name}' appears twice.", "duplicate_column")
        seen.add(name)


def _check_value(value: Any, row: int, column: str, errors: _Errors, *, where: str = "") -> None:
    """A cell's value may be empty; it must be storable (text in every string of it) and not too long."""
    where = where or f"row {row}"
    if not all(_storable(text) for text in _strings(value)):
        errors.add(
            ("rows", row, column),
            f"{where}: column '{column}' contains a NUL character or an unpaired surrogate.",
            "unstorable",
        )
    elif len(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)) > MAX_VALUE_LENGTH:
        errors.add(
            ("rows", row, column),
            f"{where}: column '{column}' is longer than {MAX_VALUE_LENGTH} characters.",
            "too_long",
        )


def _strings(value: Any):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_row_count(count: int, errors: _Errors) -> bool:
    if count > MAX_ROWS:
        errors.add(("rows",), f"More than {MAX_ROWS} rows; split the dataset.", "too_many_rows")
        return False
    return True


def _parse_csv(text: str, delimiter: str) -> tuple[list[str], list[dict[str, str]]]:
    errors = _Errors()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise Invalid([Problem(("columns",), f"The header row is not valid CSV: {exc}.", "csv")]) from None
    columns = [name.strip() for name in header]
    _check_columns(columns, errors, where="The header row")
    rows: list[dict[str, str]] = []
    number = 0
    try:
        for record in reader:
            if not any(field.strip() for field in record):
                continue  # blank lines are not rows
            number += 1
            if not _check_row_count(number, errors):
                break
            line = reader.line_num
            if len(record) != len(columns):
                errors.add(
                    ("rows", number),
                    f"row {number} (line {line}): has {len(record)} values but the header has {len(columns)} columns.",
                    "column_count",
                )
                continue
            values = dict(zip(columns, record, strict=True))
            for column, value in values.items():
                _check_value(value, number, column, errors)
            rows.append(values)
    except csv.Error as exc:
        errors.add(("rows", number + 1), f"row {number + 1} (line {reader.line_num}): not valid CSV: {exc}.", "csv")
    if not number and not errors:
        errors.add(("rows",), "The CSV has a header row but no data rows.", "empty")
    errors.raise_if_any()
    return columns, rows


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _cell(value: Any) -> Any:
    """A JSON Lines value as stored: numbers and booleans as the text JSON writes (a prompt shows them so); strings,
    objects, lists and null as they are."""
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return value


def _parse_jsonl(text: str) -> tuple[list[str], list[dict[str, Any]]]:
    errors = _Errors()
    columns: list[str] | None = None
    rows: list[dict[str, Any]] = []
    number = 0
    # JSON Lines (jsonlines.org): lines end in \n, optionally \r\n. Not str.splitlines(): U+2028, U+0085 and
    # other separators it splits on may stand unescaped inside a JSON string.
    for line_number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        number += 1
        if not _check_row_count(number, errors):
            break
        where = f"row {number} (line {line_number})"
        try:
            item = json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            errors.add(("rows", number), f"{where}: not valid JSON: {exc.msg} at column {exc.colno}.", "json_invalid")
            continue
        except ValueError as exc:  # NaN, Infinity, a number out of range or with too many digits
            errors.add(("rows", number), f"{where}: not valid JSON: {exc}.", "json_invalid")
            continue
        except RecursionError:
            errors.add(("rows", number), f"{where}: not valid JSON: nested too deeply.", "json_invalid")
            continue
        if not isinstance(item, dict):
            errors.add(("rows", number), f"{where}: must be a JSON object of column names to values.", "dict_type")
            continue
        if columns is None:
            columns = list(item)
            _check_columns(columns, errors, where=f"row {number}")
        elif set(item) != set(columns):
            missing = [name for name in columns if name not in item]
            unexpected = [name for name in item if name not in columns]
            details = []
            if missing:
                details.append("missing " + ", ".join(f"'{name}'" for name in missing))
            if unexpected:
                details.append("unexpected " + ", ".join(f"'{name}'" for name in unexpected))
            errors.add(
                ("rows", number),
                f"{where}: its columns differ from row 1's: {'; '.join(details)}.",
                "inconsistent_columns",
            )
            continue
        values: dict[str, Any] = {}
        for column in columns:
            value = _cell(item[column])
            _check_value(value, number, column, errors)
            values[column] = value
        rows.append(values)
    if not number and not errors:
        errors.add(("rows",), "The dataset has no rows.", "empty")
    errors.raise_if_any()
    return columns or [], rows


def check_new_rows(items: Any, *, columns: list[str], format: str, existing: int) -> list[dict[str, Any]]:
    """Rows to append to a dataset (`items`: a list of objects of column name to value), stored as an upload stores
    them; raise Invalid with a problem per row and column, `loc` ("rows", index in `items`, column).

    Each row has exactly the dataset's `columns`. In a CSV dataset a cell is text: numbers and booleans become the
    text JSON writes, null becomes empty, an object or list is an error. In a JSON Lines dataset values are kept as
    `_parse_jsonl` keeps them (numbers and booleans as text, objects, lists and null as they are). `existing` rows plus
    these must stay within MAX_ROWS.
    """
    errors = _Errors()
    if not isinstance(items, list) or not items:
        raise Invalid([Problem(("rows",), "Give at least one row (an object of column names to values).", "too_short")])
    if existing + len(items) > MAX_ROWS:
        raise Invalid(
            [
                Problem(
                    ("rows",),
                    f"The dataset has {existing} rows; with {len(items)} more it would have more than {MAX_ROWS}.",
                    "too_many_rows",
                )
            ]
        )
    known = ", ".join(f"'{name}'" for name in columns)
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"rows[{index}]"
        if not isinstance(item, dict):
            errors.add(("rows", index), f"{where}: must be an object of column names to values.", "dict_type")
            continue
        for name in columns:
            if name not in item:
                errors.add(("rows", index, name), f"{where}: column '{name}' is missing.", "missing")
        for name in item:
            if name not in columns:
                errors.add(
                    ("rows", index, name),
                    f"{where}: '{name}' is not a column of this dataset (its columns: {known}).",
                    "unexpected_column",
                )
        if set(item) != set(columns):
            continue
        values: dict[str, Any] = {}
        for name in columns:
            value = _cell(item[name])
            if format == "csv":
                if value is None:
                    value = ""
                elif not isinstance(value, str):
                    errors.add(
                        ("rows", index, name),
                        f"{where}: column '{name}' must be text: this dataset is a CSV, whose cells are text.",
                        "string_type",
                    )
                    continue
            _check_value(value, index, name, errors, where=where)
            values[name] = value
        rows.append(values)
    errors.raise_if_any()
    return rows
