// node --test static/js/tests/: parameter fields' text as the values sent.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parameterValue } from "../playground/parameters.js";

test("each kind of field gives its kind of value", () => {
  assert.equal(parameterValue("temperature", "number", "0.7"), 0.7);
  assert.equal(parameterValue("max_tokens", "integer", "256"), 256);
  assert.equal(parameterValue("parallel_tool_calls", "boolean", "false"), false);
  assert.equal(parameterValue("reasoning_effort", "choice", "low"), "low");
  assert.deepEqual(parameterValue("stop_sequences", "lines", "END\n\n  ###  "), ["END", "###"]);
  assert.equal(parameterValue("tool_choice", "json", "auto"), "auto");
  assert.deepEqual(parameterValue("tool_choice", "json", '{"type": "function"}'), { type: "function" });
});

test("text that is not a value of its kind says so", () => {
  assert.throws(() => parameterValue("temperature", "number", "warm"), /Enter a number\./);
  assert.throws(() => parameterValue("tools", "json", "[{"), /^Error: Not valid JSON: /);
});
