"""Helpers for the JSON editor page: where in the pasted text an error's path points."""

import contextlib
import json
import re
from json.decoder import scanstring

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LINE_IN_MESSAGE = re.compile(r"at line (\d+)")


class _Walker:
    """A small JSON reader that remembers the line on which each path starts.

    For an object member the line is that of its key, for an array item that of
    its first character. It reads only what json.loads would accept; on a
    syntax error it stops and keeps what it found so far.
    """

    def __init__(self, text: str):
        self.text = text
        self.lines: dict[tuple, int] = {}

    def line_at(self, index: int) -> int:
        return self.text.count("\n", 0, index) + 1

    def skip(self, index: int) -> int:
        return _WHITESPACE.match(self.text, index).end()

    def value(self, index: int, loc: tuple) -> int:
        index = self.skip(index)
        self.lines.setdefault(loc, self.line_at(index))
        char = self.text[index : index + 1]
        if char == "{":
            return self.object(index + 1, loc)
        if char == "[":
            return self.array(index + 1, loc)
        if char == '"':
            return scanstring(self.text, index + 1)[1]
        for literal in ("true", "false", "null"):
            if self.text.startswith(literal, index):
                return index + len(literal)
        match = _NUMBER.match(self.text, index)
        if not match:
            raise ValueError(index)
        return match.end()

    def object(self, index: int, loc: tuple) -> int:
        index = self.skip(index)
        if self.text[index : index + 1] == "}":
            return index + 1
        while True:
            index = self.skip(index)
            if self.text[index : index + 1] != '"':
                raise ValueError(index)
            key_start = index
            key, index = scanstring(self.text, index + 1)
            self.lines[(*loc, key)] = self.line_at(key_start)
            index = self.skip(index)
            if self.text[index : index + 1] != ":":
                raise ValueError(index)
            index = self.skip(self.value(index + 1, (*loc, key)))
            char = self.text[index : index + 1]
            if char == "}":
                return index + 1
            if char != ",":
                raise ValueError(index)
            index += 1

    def array(self, index: int, loc: tuple) -> int:
        index = self.skip(index)
        if self.text[index : index + 1] == "]":
            return index + 1
        position = 0
        while True:
            index = self.skip(self.value(index, (*loc, position)))
            char = self.text[index : index + 1]
            if char == "]":
                return index + 1
            if char != ",":
                raise ValueError(index)
            index += 1
            position += 1


def path_lines(text: str) -> dict[tuple, int]:
    """Map each path in a JSON text (as a loc tuple) to the line where it starts."""
    walker = _Walker(text)
    with contextlib.suppress(ValueError, IndexError, json.JSONDecodeError):
        walker.value(0, ())  # on a syntax error, keep the paths read so far
    return walker.lines


def _line_for(lines: dict[tuple, int], loc: tuple, message: str) -> int | None:
    found = _LINE_IN_MESSAGE.search(message)
    if found and not loc:  # a syntax error: the parser said where
        return int(found.group(1))
    while loc:  # a missing key points at its object, an unknown one at itself
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def annotate_errors(text: str, errors: list[dict]) -> list[dict]:
    """The errors with a "line" each (or None), for listing them next to the JSON."""
    lines = path_lines(text)
    return [
        {**error, "line": _line_for(lines, tuple(error.get("loc") or ()), error.get("message", ""))} for error in errors
    ]
