// node --test static/js/tests/: the Playground's run logic without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { messagePreview, pollRun, runDone, stopRun } from "../playground/runs.js";

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

test("stopping gives the run as it is now, or why it could not be stopped", async () => {
  const calls = [];
  const post = async (url, init) => {
    calls.push([url, init.method]);
    return { ok: true, status: 200, data: { status: "failed", error: { type: "cancelled" } } };
  };
  assert.deepEqual(await stopRun("/runs/1/cancel", { post }), { run: { status: "failed", error: { type: "cancelled" } }, error: null });
  assert.deepEqual(calls, [["/runs/1/cancel", "POST"]]);

  const refused = async () => ({ ok: false, status: 403, data: { detail: [{ loc: ["run"], msg: "Only admins may.", type: "permission_denied" }] } });
  assert.deepEqual(await stopRun("/x", { post: refused }), { run: null, error: "Only admins may." });
  const gone = async () => ({ ok: false, status: 404, data: null });
  assert.deepEqual(await stopRun("/x", { post: gone }), { run: null, error: "Could not stop the run (HTTP 404)." });
  const offline = async () => { throw new TypeError("Failed to fetch"); };
  assert.deepEqual(await stopRun("/x", { post: offline }), { run: null, error: "Could not reach the server: Failed to fetch" });
});
