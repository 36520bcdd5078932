// node --test static/js/tests/: the variables found in the messages, and the message editors' hints.
import assert from "node:assert/strict";
import { test } from "node:test";

import { messagePlaceholder, variablesIn } from "../playground/messages.js";

test("variables are listed once each, in order of first use, after those already known", () => {
  assert.deepEqual(variablesIn(["Hi {{ name }}, {{topic}}", "{{name}} again {{q.text}}"]), ["name", "topic", "q.text"]);
  assert.deepEqual(variablesIn(["{{topic}} {{city}}"], ["city"]), ["city", "topic"]);
});

test("what is not a variable is not listed", () => {
  assert.deepEqual(variablesIn(["{{ 1abc }} {{}} { {name} } {{a-b}} {{ .x }}"]), []);
  assert.deepEqual(variablesIn([]), []);
});

test("the same text read twice gives the same names (no regex state carried over)", () => {
  const texts = ["{{a}} {{b}}"];
  assert.deepEqual(variablesIn(texts), variablesIn(texts));
});

test("each message says what to write in it", () => {
  assert.match(messagePlaceholder("system", false), /helpful assistant/);
  assert.match(messagePlaceholder("tool", false), /What the tool returned/);
  assert.equal(messagePlaceholder("assistant", true), "No text: the model only called tools.");
  assert.match(messagePlaceholder("user", false), /\{\{name\}\}/);
});
