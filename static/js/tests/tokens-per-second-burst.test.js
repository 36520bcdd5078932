// A stream that arrives in one burst (a buffering proxy, a gateway that streams a finished
// answer) has a writing window of a fraction of a millisecond, and the Playground then shows millions of tokens
// per second: measured on the quickstart with a provider sending 900 tokens in two chunks back to back,
// latency 3.6 ms, first token 3.2 ms, "2250000.0 tokens/s". A window too short to measure must not give a figure
// (or must fall back to tokens / latency).
import assert from "node:assert/strict";
import test from "node:test";

import { tokensPerSecond } from "../playground/runs.js";

test("a stream that came in one burst does not claim millions of tokens per second", () => {
  const run = { status: "succeeded", usage: { completion_tokens: 900 }, latency_ms: 3.6, time_to_first_token_ms: 3.2 };
  const rate = tokensPerSecond(run);
  assert.ok(rate === null || rate === 900 / (3.6 / 1000), `shown: ${rate} tokens/s`);
  // Over a real response: 900 tokens, first token at 1,000 ms, the rest 2 ms later.
  const burst = { ...run, latency_ms: 1002, time_to_first_token_ms: 1000 };
  const burstRate = tokensPerSecond(burst);
  assert.ok(burstRate === null || burstRate <= 900 / 1.002 + 1e-9, `shown: ${burstRate} tokens/s`);
});
