"""The rules for tool calls in a conversation sent to a run, as OpenAI's Chat Completions API states them.

https://platform.openai.com/docs/api-reference/chat/create (`messages`):
- an assistant message may carry `tool_calls`, a non-empty list of
  `{"id": str, "type": "function", "function": {"name": str, "arguments": str}}`, and then its `content` may be
  null or absent;
- a `tool` message answers one of them: `tool_call_id` is the `id` of a call in an earlier assistant message, and
  its `content` is a string or a list of text parts;
- only assistant messages carry `tool_calls`, only tool messages `tool_call_id`.

The messages go out to the provider exactly as given; these rules only refuse what a provider would refuse, each
problem with its path.
"""

from typing import Any

from core.problems import Problem


def _tool_call_problems(calls: Any, loc: tuple) -> tuple[list[Problem], set[str]]:
    """Problems of an assistant message's `tool_calls`, and the ids it declares."""
    if not isinstance(calls, list) or not calls:
        return [Problem(loc, "Must be a non-empty list of tool calls.", "list_type")], set()
    problems, ids = [], set()
    for index, call in enumerate(calls):
        where = (*loc, index)
        if not isinstance(call, dict):
            problems.append(Problem(where, 'Must be an object {"id", "type": "function", "function"}.', "dict_type"))
            continue
        if not isinstance(call.get("id"), str) or not call["id"]:
            problems.append(Problem((*where, "id"), "Must be the call's id, a non-empty string.", "string_type"))
        else:
            ids.add(call["id"])
        if call.get("type") != "function":
            problems.append(Problem((*where, "type"), 'Must be "function".', "literal_error"))
        function = call.get("function")
        if not isinstance(function, dict):
            message = 'Must be an object {"name", "arguments"}.'
            problems.append(Problem((*where, "function"), message, "dict_type"))
            continue
        if not isinstance(function.get("name"), str) or not function["name"]:
            message = "Must be the function's name, a non-empty string."
            problems.append(Problem((*where, "function", "name"), message, "string_type"))
        if not isinstance(function.get("arguments"), str):
            message = 'Must be a string: the arguments as JSON text, such as "{\\"city\\": \\"Paris\\"}".'
            problems.append(Problem((*where, "function", "arguments"), message, "string_type"))
    return problems, ids


def conversation_problems(messages: list[Any], loc_prefix: tuple, *, only: set[int]) -> list[Problem]:
    """The tool-call problems of the messages at the indexes `only` (objects already checked otherwise), each with
    its path, plus those of `content` (null allowed for an assistant message with tool calls)."""
    problems, declared = [], set()
    for index, message in enumerate(messages):
        if index not in only:
            continue
        loc = (*loc_prefix, index)
        role, content = message.get("role"), message.get("content")
        has_calls = "tool_calls" in message and message["tool_calls"] is not None
        if has_calls and role != "assistant":
            problems.append(Problem((*loc, "tool_calls"), "Only assistant messages carry tool calls.", "extra"))
        elif has_calls:
            call_problems, ids = _tool_call_problems(message["tool_calls"], (*loc, "tool_calls"))
            problems += call_problems
            declared |= ids
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:
                text = "A tool message needs the id of the call it answers, a non-empty string."
                problems.append(Problem((*loc, "tool_call_id"), text, "missing"))
            elif call_id not in declared:
                text = f'No earlier assistant message has a tool call with id "{call_id}".'
                problems.append(Problem((*loc, "tool_call_id"), text, "unknown_tool_call"))
        elif "tool_call_id" in message:
            problems.append(Problem((*loc, "tool_call_id"), "Only tool messages carry tool_call_id.", "extra"))
        null_allowed = role == "assistant" and has_calls
        if not isinstance(content, str | list) and not (content is None and null_allowed):
            text = "Must be a string (or a list of content parts)" + (
                ", or null when the message carries tool_calls." if role == "assistant" else "."
            )
            problems.append(Problem((*loc, "content"), text, "string_type"))
    return problems
