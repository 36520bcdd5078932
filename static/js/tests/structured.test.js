// node --test static/js/tests/: the tools and response format forms' values.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  EMPTY_SCHEMA,
  parseSchema,
  responseFormatFromValue,
  responseFormatToValue,
  toolsFromValue,
  toolsToValue,
} from "../playground/structured.js";

const WEATHER = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

test("tool rows become OpenAI's function tools, a description only when written", () => {
  const rows = [
    { name: " get_weather ", description: "Weather now", parameters: JSON.stringify(WEATHER) },
    { name: "get_time", description: "  ", parameters: "" },
  ];
  assert.deepEqual(toolsToValue(rows), {
    value: [
      { type: "function", function: { name: "get_weather", description: "Weather now", parameters: WEATHER } },
      { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
    ],
    problems: [],
  });
  assert.deepEqual(toolsToValue([]), { value: [], problems: [] });
});

test("each problem of a tool is reported on its field", () => {
  const { value, problems } = toolsToValue([
    { name: "", parameters: EMPTY_SCHEMA },
    { name: "get weather", parameters: "{" },
    { name: "a", parameters: "[]" },
    { name: "a", parameters: EMPTY_SCHEMA },
  ]);
  assert.equal(value, null);
  assert.deepEqual(problems.map((p) => [p.index, p.field, p.message.split(":")[0]]), [
    [0, "name", "Give the tool a name."],
    [1, "name", "Letters, digits, _ and - only, at most 64."],
    [1, "parameters", "Not valid JSON"],
    [2, "parameters", "A JSON schema is an object."],
    [3, "name", "Another tool has this name."],
  ]);
});

test("tools read back into rows; what the form cannot show is null", () => {
  const value = [{ type: "function", function: { name: "get_weather", parameters: WEATHER } }];
  const rows = toolsFromValue(value);
  assert.deepEqual(rows, [{ name: "get_weather", description: "", parameters: JSON.stringify(WEATHER, null, 2) }]);
  assert.deepEqual(toolsToValue(rows).value, value);
  assert.deepEqual(toolsFromValue(null), []);
  assert.equal(toolsFromValue({ type: "function" }), null);
  assert.equal(toolsFromValue([{ type: "web_search" }]), null);
});

test("the response format form gives the parameter, nothing when left at default", () => {
  assert.deepEqual(responseFormatToValue({ type: "" }), { value: null, problems: [] });
  assert.deepEqual(responseFormatToValue({ type: "json_object" }).value, { type: "json_object" });
  const form = { type: "json_schema", name: "forecast", strict: true, schema: JSON.stringify(WEATHER) };
  const value = { type: "json_schema", json_schema: { name: "forecast", schema: WEATHER, strict: true } };
  assert.deepEqual(responseFormatToValue(form), { value, problems: [] });
  assert.deepEqual(responseFormatToValue({ ...form, strict: false }).value.json_schema.strict, undefined);
  assert.deepEqual(responseFormatFromValue(value), { ...form, schema: JSON.stringify(WEATHER, null, 2) });
});

test("a schema form with problems sends nothing and says why", () => {
  const { value, problems } = responseFormatToValue({ type: "json_schema", name: "", schema: "nope" });
  assert.equal(value, null);
  assert.deepEqual(problems.map((p) => p.field), ["name", "schema"]);
  assert.equal(responseFormatFromValue([1]), null);
  assert.equal(responseFormatFromValue({ type: "json_schema" }), null);
  assert.equal(responseFormatFromValue(undefined).type, "");
  assert.deepEqual(parseSchema("{}"), [{}, null]);
});
