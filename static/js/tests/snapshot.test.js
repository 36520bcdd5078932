// node --test static/js/tests/: a saved prompt version's fields and a column's parameters, both ways.
import assert from "node:assert/strict";
import { test } from "node:test";

import { versionFields, versionParameters } from "../playground/snapshot.js";

const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];

test("a version's tools and response format join its parameters in a column", () => {
  const version = { parameters: { temperature: 0.2 }, tools, response_format: { type: "json_object" } };
  assert.deepEqual(versionParameters(version), { temperature: 0.2, tools, response_format: { type: "json_object" } });
  assert.deepEqual(versionParameters({}), {});
});

test("a column's tools and response format go to their own fields of a new version", () => {
  const parameters = { temperature: 0.2, tools };
  assert.deepEqual(versionFields(parameters), { parameters: { temperature: 0.2 }, tools });
  assert.deepEqual(parameters, { temperature: 0.2, tools }, "the column's parameters are left as they were");
  assert.deepEqual(versionFields({}), { parameters: {} });
});

test("a version read into a column and saved again is the same version", () => {
  const version = { parameters: { max_tokens: 10 }, tools, response_format: { type: "text" } };
  assert.deepEqual(versionFields(versionParameters(version)), version);
});
