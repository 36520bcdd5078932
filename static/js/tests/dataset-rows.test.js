// node --test static/js/tests/: what the Playground's "Add to a dataset" shows, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answerColumns, answerErrors, problemText } from "../playground/dataset-rows.js";

test("expected is offered first for the answer", () => {
  assert.deepEqual(answerColumns(["question", "expected", "notes"]), ["expected", "question", "notes"]);
  assert.deepEqual(answerColumns(["question", "reference"]), ["question", "reference"]);
  assert.deepEqual(answerColumns([""]), []);
});

test("a problem is shown with its path, without the leading body", () => {
  assert.equal(problemText({ loc: ["body", "from_run", "variables", "topic"], msg: "Not a column." }), "from_run.variables.topic: Not a column.");
  assert.equal(problemText({ loc: ["body"], msg: "Send either rows or from_run." }), "Send either rows or from_run.");
});

test("the answer's errors: problems, a sentence (409), or a status", () => {
  assert.equal(answerErrors({ ok: true, status: 201, data: {} }), null);
  assert.deepEqual(answerErrors({ ok: false, status: 422, data: { detail: [{ loc: ["body", "rows"], msg: "Too many." }] } }), ["rows: Too many."]);
  assert.deepEqual(answerErrors({ ok: false, status: 409, data: { detail: "Not its latest." } }), ["Not its latest."]);
  assert.deepEqual(answerErrors({ ok: false, status: 502, data: null }), ["The row could not be added (HTTP 502)."]);
});
