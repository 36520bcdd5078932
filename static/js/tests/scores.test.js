// node --test static/js/tests/: how a metric and its judges read, and which problems belong to which column.
import assert from "node:assert/strict";
import { test } from "node:test";

import { columnProblems, judgeCount, metricInfoText } from "../playground/scores.js";

test("judges are counted in words", () => {
  assert.equal(judgeCount(1), "1 judge");
  assert.equal(judgeCount(3), "3 judges");
});

test("a metric says who scores it", () => {
  assert.equal(metricInfoText({ kind: "judge", judge_model: "gpt", judges: 1 }), "Judged by gpt, 1 judge.");
  assert.equal(metricInfoText({ kind: "judge", judge_model: "gpt", judges: 3 }), "Judged by gpt, 3 judges, averaged.");
  assert.equal(metricInfoText({ kind: "code", check: "exact match" }), "Code check: exact match (no judge model; scored at once).");
  assert.equal(metricInfoText(undefined), "");
});

test("a problem about one run is that column's; one about no run is every column's", () => {
  const errors = [
    { loc: ["body", "runs", 0], msg: "first" },
    { loc: ["body", "runs", 1], msg: "second" },
    { loc: ["body", "metric"], msg: "all" },
  ];
  assert.deepEqual(columnProblems(errors, 0).map((e) => e.msg), ["first", "all"]);
  assert.deepEqual(columnProblems(errors, 1).map((e) => e.msg), ["second", "all"]);
  assert.deepEqual(columnProblems([], 0), []);
});
