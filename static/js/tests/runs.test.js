// node --test static/js/tests/: the Playground's run logic without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { messagePreview, pollRun, runDone } from "../playground/runs.js";

test("a run is done once it succeeded or failed", () => {
  assert.deepEqual(["queued", "running", "succeeded", "failed"].map((status) => runDone({ status })), [false, false, true, true]);
  assert.equal(runDone(null), false);
});

test("the preview is the last user message, collapsed and cut", () => {
  const messages = [
    { role: "system", content: "Be brief." },
    { role: "user", content: "first" },
    { role: "assistant", content: "answer" },
    { role: "user", content: "  second\n\nquestion  " },
  ];
  assert.equal(messagePreview(messages), "second question");
  assert.equal(messagePreview([{ role: "user", content: "x".repeat(100) }]), "x".repeat(89) + "…");
  assert.equal(messagePreview([{ role: "user", content: [{ type: "text", text: "parts" }] }]), "");
  assert.equal(messagePreview(undefined), "");
});

test("polling hands every read over and stops when the run is done", async (t) => {
  const answers = [{ status: "queued" }, null, { status: "running", output: "Hel" }, { status: "succeeded", output: "Hello" }];
  t.mock.method(globalThis, "fetch", async () => {
    const run = answers.shift();
    return run ? new Response(JSON.stringify(run), { status: 200 }) : new Response("", { status: 502 });
  });
  const seen = [];
  const finished = await pollRun("/run", { onUpdate: (run) => seen.push(run.status), wait: async () => {} });
  assert.deepEqual(seen, ["queued", "running", "succeeded"]);
  assert.equal(finished.output, "Hello");
});

test("polling stops without reading once the column shows another run", async (t) => {
  const fetched = t.mock.method(globalThis, "fetch", async () => new Response(JSON.stringify({ status: "running" })));
  let current = true;
  const finished = await pollRun("/run", { onUpdate: () => { current = false; }, isCurrent: () => current, wait: async () => {} });
  assert.equal(finished, null);
  assert.equal(fetched.mock.callCount(), 1);
});
