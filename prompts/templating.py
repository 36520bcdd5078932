"""{{variables}} in chat messages: which a template uses, and the messages with their values filled in."""

import re
from typing import Any

from core.problems import Invalid, Problem

VARIABLE_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


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


def messages_render(messages: Any, variables: Any) -> Any:
    """The messages with {{variable}} replaced by its value; a missing value is an error on that variable."""
    if not isinstance(messages, list):
        return messages  # run_enqueue explains what a message list must be
    values = variables if isinstance(variables, dict) else {}
    # An empty value is almost always a forgotten field, so it counts as missing.
    missing = [
        name for name in message_variables(messages) if not isinstance(values.get(name), str) or not values[name]
    ]
    if missing:
        raise Invalid([Problem(("variables", name), "Give this variable a value.", "missing") for name in missing])

    def substitute(text: str) -> str:
        return VARIABLE_RE.sub(lambda match: values[match.group(1)], text)

    return [
        {**message, "content": substitute(message["content"])}
        if isinstance(message, dict) and isinstance(message.get("content"), str)
        else message
        for message in messages
    ]
