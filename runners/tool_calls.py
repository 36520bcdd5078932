"""Tool calls in OpenAI's shape, from a whole answer or merged from a stream's fragments.

A stored call is `{"id": str, "type": "function", "function": {"name": str, "arguments": str}}` (`arguments` is the
JSON text the model wrote, kept verbatim even when it is not valid JSON).

Streamed fragments are merged by their `index` as openai-python's stream accumulator does
(openai/lib/streaming/_deltas.py `accumulate_delta`): the first fragment of an index opens the call, later ones
extend it, and `function.arguments` pieces are concatenated. Unlike that accumulator, `id`, `type` and
`function.name` are taken from the first fragment that has them and never concatenated: vLLM, Ollama and some
gateways repeat them in every fragment. A fragment that brings a new `id` at an index already taken opens a new
call (Ollama numbers every call of a parallel batch 0); a fragment without an `index` (Gemini's OpenAI-compatible
API, older Ollama) opens a new call when it brings a new `id`, and otherwise continues the last call.
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
    """Folds streamed `delta.tool_calls` fragments into whole calls, in the order they were opened."""

    def __init__(self) -> None:
        self._calls: list[dict[str, Any]] = []
        self._by_index: dict[int, int] = {}  # the provider's index -> the call it last opened there
        self._by_id: dict[str, int] = {}
        self._last: int | None = None

    def add(self, fragments: list[Any]) -> None:
        for fragment in fragments:
            if isinstance(fragment, dict):
                self._add(fragment)

    def _slot(self, fragment: dict[str, Any]) -> int:
        call_id = fragment.get("id") if isinstance(fragment.get("id"), str) and fragment.get("id") else None
        index = fragment.get("index")
        if call_id in self._by_id:
            return self._by_id[call_id]  # the id repeated in a later fragment of the same call
        if isinstance(index, int) and not isinstance(index, bool):
            slot = self._by_index.get(index)
            # A new id at a known index is a new call: Ollama sends index 0 for every call of a parallel batch.
            if slot is None or (call_id and self._calls[slot]["id"]):
                slot = self._open()
                self._by_index[index] = slot
            return slot
        if call_id or self._last is None:
            return self._open()
        return self._last

    def _open(self) -> int:
        self._calls.append({"id": None, "type": None, "function": {"name": None, "arguments": ""}})
        return len(self._calls) - 1

    def _add(self, fragment: dict[str, Any]) -> None:
        slot = self._slot(fragment)
        call = self._calls[slot]
        self._last = slot
        if not call["id"] and isinstance(fragment.get("id"), str) and fragment["id"]:
            call["id"] = fragment["id"]
            self._by_id[fragment["id"]] = slot
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
            for call in self._calls
        ]
