// node --test static/js/tests/: continuing a conversation with an answer and its tool calls.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answerTurns, toolNameFor, wireMessage } from "../playground/conversation.js";

const CALL = { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } };

test("a text answer becomes one assistant turn", () => {
  assert.deepEqual(answerTurns({ status: "succeeded", output: "Hi!", tool_calls: null }), [{ role: "assistant", content: "Hi!" }]);
});

test("an answer with tool calls becomes the assistant turn and one tool result to write per call", () => {
  const second = { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" }, index: 1 };
  assert.deepEqual(answerTurns({ output: null, tool_calls: [CALL, second] }), [
    { role: "assistant", content: null, tool_calls: [CALL, { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } }] },
    { role: "tool", tool_call_id: "call_1", content: "" },
    { role: "tool", tool_call_id: "call_2", content: "" },
  ]);
  assert.equal(answerTurns({ output: "Let me look.", tool_calls: [CALL] })[0].content, "Let me look.");
});

test("nothing to add from an empty answer or no run", () => {
  assert.deepEqual(answerTurns({ output: "", tool_calls: [] }), []);
  assert.deepEqual(answerTurns(null), []);
});

test("messages go out in OpenAI's shapes", () => {
  assert.deepEqual(wireMessage({ role: "user", content: "Hi", toolCalls: null, toolCallId: null }), { role: "user", content: "Hi" });
  assert.deepEqual(wireMessage({ role: "assistant", content: "", toolCalls: [CALL] }), { role: "assistant", content: null, tool_calls: [CALL] });
  assert.deepEqual(wireMessage({ role: "assistant", content: "", toolCalls: [] }), { role: "assistant", content: "" });
  assert.deepEqual(wireMessage({ role: "tool", content: "21 C", toolCallId: "call_1" }), { role: "tool", tool_call_id: "call_1", content: "21 C" });
});

test("a tool result is labelled with the name of the call it answers", () => {
  const messages = [{ role: "user", content: "Weather?" }, { role: "assistant", content: null, tool_calls: [CALL] }];
  assert.equal(toolNameFor(messages, "call_1"), "get_weather");
  assert.equal(toolNameFor(messages, "call_9"), "");
});
