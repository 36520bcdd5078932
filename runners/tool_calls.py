"""Tool calls in OpenAI's shape, from a whole answer or merged from a stream's fragments.

A stored call is `{"id": str, "type": "function", "function": {"name": str, "arguments": str}}` (`arguments` is the
JSON text the model wrote, kept verbatim even when it is not valid JSON).

Streamed fragments are merged by their `index` as openai-python's stream accumulator does
(openai/lib/streaming/_deltas.py `accumulate_delta`): the first fragment of an index opens the call, later ones
extend it, and `function.arguments` pieces are concatenated. Unlike that accumulator, `id`, `type` and
`function.name` are taken from the first fragment that has them and never concatenated: vLLM, Ollama and some
gateways repeat them in every fragment. A fragment without an `index` (some OpenAI-compatible servers omit it)
opens a new call when it brings a new `id`, and otherwise continues the last call.
"""

import json
from typing import Any


def _arguments_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)  # a provider that sends the arguments as an object rather than JSON text


def normalized_tool_calls(raw: Any) -> list[dict[str, Any]] | None:
    """The `tool_calls` of a whole message in OpenAI's shape (None when there are none); keeps `id` and the name
    as given, turns object arguments into JSON text, and skips entries that are not objects."""
    if not isinstance(raw, list):
        return None
    merger = ToolCallMerger()
    for position, call in enumerate(raw):
        if isinstance(call, dict):
            merger.add([{**call, "index": position}])
    return merger.calls() or None


class ToolCallMerger:
    """Folds streamed `delta.tool_calls` fragments into whole calls, in order of their index."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}
        self._last: int | None = None

    def add(self, fragments: list[Any]) -> None:
        for fragment in fragments:
            if isinstance(fragment, dict):
                self._add(fragment)

    def _add(self, fragment: dict[str, Any]) -> None:
        index = fragment.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            known_id = fragment.get("id") and any(c["id"] == fragment.get("id") for c in self._calls.values())
            if self._last is not None and (not fragment.get("id") or known_id):
                index = self._last
            else:
                index = max(self._calls, default=-1) + 1
        call = self._calls.setdefault(index, {"id": None, "type": None, "function": {"name": None, "arguments": ""}})
        self._last = index
        if not call["id"] and isinstance(fragment.get("id"), str):
            call["id"] = fragment["id"]
        if not call["type"] and isinstance(fragment.get("type"), str):
            call["type"] = fragment["type"]
        function = fragment.get("function")
        if isinstance(function, dict):
            if not call["function"]["name"] and isinstance(function.get("name"), str):
                call["function"]["name"] = function["name"]
            call["function"]["arguments"] += _arguments_text(function.get("arguments"))

    def calls(self) -> list[dict[str, Any]]:
        return [
            {
                "id": call["id"] or "",
                "type": call["type"] or "function",
                "function": {"name": call["function"]["name"] or "", "arguments": call["function"]["arguments"]},
            }
            for _, call in sorted(self._calls.items())
        ]
