// node --test static/js/tests/: how a run's figures read.
import assert from "node:assert/strict";
import { test } from "node:test";

import { formatArguments, formatLatency, STATUS_TEXT } from "../playground/result.js";

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
