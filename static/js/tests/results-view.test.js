// The evaluation results dialog's text helpers (static/evaluations/results-view.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  dialogTitle,
  errorText,
  formatMs,
  judgementText,
  messagesText,
  outcomeText,
  outputUrl,
  usageText,
} from "../../evaluations/results-view.js";

test("the output URL replaces the placeholder id with the run's", () => {
  const template = "/api/v2/evaluations/e1/outputs/00000000-0000-0000-0000-000000000000";
  assert.equal(outputUrl(template, "3f2a"), "/api/v2/evaluations/e1/outputs/3f2a");
});

test("latency and tokens read as people read them", () => {
  assert.equal(formatMs(850.4), "850 ms");
  assert.equal(formatMs(2400), "2.4 s");
  assert.equal(formatMs(null), "–");
  assert.equal(usageText({ prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 }), "42 (30 in, 12 out)");
  assert.equal(usageText({ total_tokens: 7 }), "7");
  assert.equal(usageText(null), "–");
});

test("a judge's verdict is its score and reason, or what went wrong", () => {
  assert.equal(judgementText({ outcome: "scored", score: 0.5, reason: "Half right." }), "0.50: Half right.");
  assert.equal(
    judgementText({ outcome: "unusable", error: "The answer is not JSON." }),
    "No score (answer was no verdict): The answer is not JSON.",
  );
  assert.equal(judgementText(undefined), "No verdict recorded yet.");
  assert.equal(outcomeText("run_failed"), "judge run failed");
  assert.equal(outcomeText(null), "waiting");
});

test("errors, messages and the title", () => {
  assert.equal(errorText({ type: "provider_error", message: "HTTP 500" }), "provider_error: HTTP 500");
  assert.equal(errorText(null), "");
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: [{ type: "text", text: "Hi" }] },
  ];
  assert.equal(messagesText(messages), 'system:\nBe brief.\n\nuser:\n[\n  {\n    "type": "text",\n    "text": "Hi"\n  }\n]');
  assert.equal(dialogTitle({ row: { index: 3 }, model: "model-a", attempt: 1 }), "Row 3 · model-a");
  assert.equal(dialogTitle({ row: { index: 3 }, model: "model-a", attempt: 2 }), "Row 3 · model-a · attempt 2");
});
