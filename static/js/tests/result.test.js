// node --test static/js/tests/: how a run's figures read.
import assert from "node:assert/strict";
import { test } from "node:test";

import { FIGURE_TITLES, answerFigures, formatArguments, formatLatency, STATUS_TEXT } from "../playground/result.js";

test("latency reads in ms under a second, else in seconds", () => {
  assert.equal(formatLatency(412.4), "412 ms");
  assert.equal(formatLatency(1500), "1.50 s");
  assert.equal(formatLatency(null), "");
});

test("tool arguments are indented when they are JSON, verbatim when a model wrote something else", () => {
  assert.equal(formatArguments('{"city":"Paris"}'), '{\n  "city": "Paris"\n}');
  assert.equal(formatArguments('{"city": '), '{"city": ');
});

test("a succeeded run reads ok", () => {
  assert.equal(STATUS_TEXT.succeeded, "ok");
});

const figures = (run) => Object.fromEntries(answerFigures(run).map((figure) => [figure.name, figure]));

test("a streamed answer shows its time to first token, its writing speed, tokens and latency, in that order", () => {
  const run = { status: "succeeded", usage: { prompt_tokens: 5, completion_tokens: 40 }, latency_ms: 2500, time_to_first_token_ms: 500 };
  assert.deepEqual(answerFigures(run).map((figure) => figure.name), ["ttft", "rate", "tokens", "latency"]);
  const shown = figures(run);
  assert.equal(shown.ttft.text, "First token 500 ms");
  assert.equal(shown.rate.text, "20.0 tokens/s");
  assert.equal(shown.rate.title, FIGURE_TITLES.rateStreamed);
  assert.equal(shown.tokens.text, "Tokens 5 in · 40 out");
  assert.equal(shown.latency.text, "Latency 2.50 s");
});

test("an answer that was not streamed has no time to first token and its rate includes the wait", () => {
  const shown = figures({ status: "succeeded", usage: { prompt_tokens: 5, completion_tokens: 40 }, latency_ms: 2000, time_to_first_token_ms: null });
  assert.equal(shown.ttft.text, "");
  assert.equal(shown.rate.text, "20.0 tokens/s");
  assert.equal(shown.rate.title, FIGURE_TITLES.rate);
});

test("a running answer has no figures yet but its time to first token", () => {
  const shown = figures({ status: "running", usage: null, latency_ms: null, time_to_first_token_ms: 1200 });
  assert.deepEqual([shown.ttft.text, shown.rate.text, shown.tokens.text, shown.latency.text], ["First token 1.20 s", "", "", ""]);
});
