// node --test static/js/tests/: where a 422's problem is shown.
import assert from "node:assert/strict";
import { test } from "node:test";

import { problemPath, problemPlace } from "../playground/errors.js";

test("a problem's path reads as it would be written", () => {
  assert.equal(problemPath(["columns", 1, "parameters", "temperature"]), "columns[1].parameters.temperature");
  assert.equal(problemPath(["messages", 0, "content"]), "messages[0].content");
  assert.equal(problemPath([]), "");
});

test("each problem goes next to what it is about", () => {
  assert.deepEqual(problemPlace(["columns", 1, "parameters", "top_p"]), { place: "column", index: 1, part: "parameters", name: "top_p" });
  assert.deepEqual(problemPlace(["columns", 0, "prompt_version"]), { place: "column", index: 0, part: "prompt_version" });
  assert.deepEqual(problemPlace(["columns", 2, "model"]), { place: "column", index: 2, part: "model" });
  assert.deepEqual(problemPlace(["columns", 2]), { place: "column", index: 2, part: "model" });
  assert.deepEqual(problemPlace(["messages", 3, "content"]), { place: "message", index: 3 });
  assert.deepEqual(problemPlace(["variables", "name"]), { place: "variable", name: "name" });
  assert.deepEqual(problemPlace(["stream"]), { place: "general" });
  assert.deepEqual(problemPlace(["columns"]), { place: "general" });
});
