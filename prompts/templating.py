"""{{variables}} in chat messages: which a template uses, and the messages with their values filled in.

A variable is a name (`{{question}}`) or a dotted path into a JSON value (`{{q.text}}`, `{{q.choices.0}}`), as a
dataset's JSON Lines rows hold them; `variable_value` says what text a variable stands for.
"""

import json
import re
from typing import Any

from core.problems import Invalid, Problem

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


def message_variables(messages: list) -> list[str]:
    """The {{variable}} names used in the messages, in order of first use."""
    names: list[str] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            for name in VARIABLE_RE.findall(content):
                if name not in names:
                    names.append(name)
    return names


def variable_root(name: str) -> str:
    """The column or field a variable starts from: "q" for {{q.text}}."""
    return name.split(".", 1)[0]


def value_text(value: Any) -> str | None:
    """A JSON value as a variable's text: strings as they are, numbers and booleans as JSON writes them, objects
    and lists as compact JSON with sorted keys (PostgreSQL's jsonb does not keep a file's key order, so sorting
    makes the text the same on every database); None for null or nothing."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def variable_value(values: dict, name: str) -> str | None:
    """The text `name` stands for in `values`: the value under that exact key, else the dotted path walked through
    objects (by key) and lists (by index). None when absent or null."""
    if name in values:
        return value_text(values[name])
    current: Any = values
    for part in name.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return value_text(current)


def messages_render(messages: Any, variables: Any) -> Any:
    """The messages with {{variable}} replaced by its value; a missing value is an error on that variable."""
    if not isinstance(messages, list):
        return messages  # run_enqueue explains what a message list must be
    values = variables if isinstance(variables, dict) else {}
    texts = {name: variable_value(values, name) for name in message_variables(messages)}
    # An empty value is almost always a forgotten field, so it counts as missing.
    missing = [name for name, text in texts.items() if not text]
    if missing:
        raise Invalid([Problem(("variables", name), "Give this variable a value.", "missing") for name in missing])

    def substitute(text: str) -> str:
        return VARIABLE_RE.sub(lambda match: texts[match.group(1)], text)

    return [
        {**message, "content": substitute(message["content"])}
        if isinstance(message, dict) and isinstance(message.get("content"), str)
        else message
        for message in messages
    ]
