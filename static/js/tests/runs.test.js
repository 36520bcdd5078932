// node --test static/js/tests/: the Playground's run logic without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";

import { followRun, messagePreview, runDone, stopRun, tokensPerSecond } from "../playground/runs.js";

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

function fakeFetch(t, routes) {
  const asked = [];
  t.mock.method(globalThis, "fetch", async (url) => {
    asked.push(url);
    const answer = routes[url].shift();
    return answer ? new Response(JSON.stringify(answer), { status: 200 }) : new Response("", { status: 502 });
  });
  return asked;
}

test("following reads the run, then its live text until the status changes, then the run again", async (t) => {
  const asked = fakeFetch(t, {
    "/run": [{ status: "running", output: null }, { status: "succeeded", output: "Hello" }],
    "/live": [
      { status: "running", output: null },
      { status: "running", output: "Hel" },
      null, // a failed read is skipped
      { status: "running", output: "Hel" }, // unchanged: nothing to draw
      { status: "running", output: "Hell" },
      { status: "succeeded", output: null },
    ],
  });
  const updates = [];
  const texts = [];
  const finished = await followRun("/run", "/live", {
    onUpdate: (run) => updates.push(run.status),
    onLive: (text) => texts.push(text),
    wait: async () => {},
  });
  assert.deepEqual(updates, ["running", "succeeded"]);
  assert.deepEqual(texts, ["Hel", "Hell"]);
  assert.equal(finished.output, "Hello");
  assert.deepEqual(asked, ["/run", "/live", "/live", "/live", "/live", "/live", "/live", "/run"]);
});

test("following a finished run reads it once", async (t) => {
  const asked = fakeFetch(t, { "/run": [{ status: "failed", output: "partial" }], "/live": [] });
  const finished = await followRun("/run", "/live", { onUpdate: () => {}, onLive: () => assert.fail(), wait: async () => {} });
  assert.equal(finished.status, "failed");
  assert.deepEqual(asked, ["/run"]);
});

test("following stops without reading once the column shows another run", async (t) => {
  const asked = fakeFetch(t, { "/run": [{ status: "queued" }], "/live": [{ status: "running", output: "x" }] });
  let current = true;
  const finished = await followRun("/run", "/live", {
    onUpdate: () => { current = false; },
    onLive: () => assert.fail(),
    isCurrent: () => current,
    wait: async () => {},
  });
  assert.equal(finished, null);
  assert.deepEqual(asked, ["/run"]);
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

test("tokens per second are the completion tokens over the latency, for a finished run only", () => {
  assert.equal(tokensPerSecond({ status: "succeeded", usage: { completion_tokens: 50 }, latency_ms: 2000 }), 25);
  assert.equal(tokensPerSecond({ status: "running", usage: { completion_tokens: 50 }, latency_ms: 2000 }), null);
  assert.equal(tokensPerSecond({ status: "succeeded", usage: null, latency_ms: 2000 }), null);
  assert.equal(tokensPerSecond({ status: "failed", usage: { completion_tokens: 3 }, latency_ms: null }), null);
});

test("a streamed run's tokens per second leave out the wait for the first token", () => {
  const run = { status: "succeeded", usage: { completion_tokens: 30 }, latency_ms: 1600, time_to_first_token_ms: 100 };
  assert.equal(tokensPerSecond(run), 20);
  // Every token came in the first chunk: no writing window to divide by.
  assert.equal(tokensPerSecond({ ...run, time_to_first_token_ms: 1600 }), null);
  // A failed (cancelled) run has no latency: no rate.
  assert.equal(tokensPerSecond({ status: "failed", usage: { completion_tokens: 3 }, latency_ms: null, time_to_first_token_ms: 90 }), null);
});
