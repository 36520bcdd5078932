// node --test static/js/tests/: parameter fields' text as the values sent.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fieldText, paramCountText, parameterValue } from "../playground/parameters.js";

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

test("the parameters summary counts what the model supports and what is set", () => {
  assert.equal(paramCountText(6, 0), "· 6 supported");
  assert.equal(paramCountText(6, 2), "· 6 supported, 2 set");
  assert.equal(paramCountText(0, 0), "· none supported");
});

test("a value given (a draft, a saved version) reads back as its field's text", () => {
  assert.equal(fieldText("lines", ["END", "###"]), "END\n###");
  assert.equal(fieldText("lines", "END"), "END");
  assert.equal(fieldText("json", { type: "json_object" }), '{\n  "type": "json_object"\n}');
  assert.equal(fieldText("json", "[1]"), "[1]");
  assert.equal(fieldText("number", 0.5), "0.5");
  assert.equal(fieldText("boolean", false), "false");
});
