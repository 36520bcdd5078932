// node --test static/js/tests/: the Playground's state module (what used to live on its DOM nodes).
import assert from "node:assert/strict";
import { test } from "node:test";

import { columnState, forgetColumn, initState, messageState, modelsByAlias, nextAlias, nextId, state } from "../playground/state.js";

const groups = [
  { integration: "portkey", models: [{ alias: "gpt", name: "gpt-5.2", supported_parameters: ["temperature"] }] },
  { integration: "local", models: [{ alias: "llama", name: "llama-3", supported_parameters: [] }] },
];

test("models are indexed by alias, each with its integration's name", () => {
  const models = modelsByAlias(groups);
  assert.deepEqual(Object.keys(models), ["gpt", "llama"]);
  assert.equal(models.llama.integration, "local");
  assert.equal(models.gpt.name, "gpt-5.2");
  assert.deepEqual(modelsByAlias(undefined), {});
});

test("a new column takes the first model no column runs yet, else the first", () => {
  const models = modelsByAlias(groups);
  assert.equal(nextAlias(models, ["gpt"]), "llama");
  assert.equal(nextAlias(models, []), "gpt");
  assert.equal(nextAlias(models, ["gpt", "llama"]), "gpt");
});

test("the state starts from the page data and forgets the previous page's columns and messages", () => {
  state.columns.set("column-x", {});
  state.messages.set("message-x", {});
  const versions = [{ id: "v1", label: "greeting · v1", variables: ["name"] }];
  initState({ groups, parameters: {}, prompt_versions: versions, max_columns: 4 }, { runs: "/r", run: "/r/", metrics: "/m/" });
  assert.equal(state.versionsById.v1.label, "greeting · v1");
  assert.equal(state.urls.metrics, "/m/");
  assert.equal(state.columns.size, 0);
  assert.equal(state.messages.size, 0);
});

test("a column's state is made on first use, kept by its id, and forgotten with it", () => {
  const column = { id: nextId("column") };
  assert.match(column.id, /^column-\d+$/);
  assert.notEqual(nextId("column"), column.id);
  const kept = columnState(column);
  assert.deepEqual(kept, { values: {}, run: null, runId: null, autoScore: false, scoreKey: null, scoreState: null });
  kept.runId = "r1";
  assert.equal(columnState({ id: column.id }).runId, "r1");
  forgetColumn(column);
  assert.equal(columnState(column).runId, null);
});

test("a plain message carries no tool call and answers none", () => {
  assert.deepEqual(messageState("message-unknown"), { toolCalls: null, toolCallId: null });
});
