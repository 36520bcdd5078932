// The evaluation results page: every output and score cell opens its run in a <dialog> (native: Enter or a tap
// opens it from the cell's button, Esc closes it, focus goes back to the cell). The run is read when the dialog
// opens, from GET /api/v2/evaluations/{id}/outputs/{run_id}. The re-run buttons submit once.
import { fetchJSON } from "../js/http.js";
import { el } from "../js/playground/dom.js";
import {
  dialogTitle,
  errorText,
  formatMs,
  judgementText,
  messagesText,
  outcomeText,
  outputUrl,
  scoreText,
  usageText,
} from "./results-view.js";

const dialog = document.getElementById("run-dialog");
const body = document.getElementById("run-dialog-body");
const title = document.getElementById("run-dialog-title");
let opener = null;

function section(heading, children, attrs) {
  return el("section", attrs || {}, [el("h3", { text: heading }), ...children]);
}

function pre(text) {
  return el("pre", { text: text ?? "" });
}

function facts(pairs) {
  return el(
    "dl",
    { className: "facts" },
    pairs.map(([term, value]) => el("div", {}, [el("dt", { text: term }), el("dd", { text: value })])),
  );
}

function runFacts(run) {
  return facts([
    ["Status", run.status],
    ["Latency", formatMs(run.latency_ms)],
    ["Tokens", usageText(run.usage)],
    ["Finish reason", run.finish_reason || "–"],
    ["Provider attempts", String(run.attempts ?? "–")],
  ]);
}

function judgeItem(judgeRun, judgement) {
  const label = `Judge ${judgeRun.index + 1}${judgeRun.attempt > 1 ? `, attempt ${judgeRun.attempt}` : ""}`;
  const children = [el("strong", { text: `${label}: ` })];
  if (judgeRun.superseded) {
    const why = errorText(judgeRun.error) || outcomeText(judgeRun.outcome);
    children.push(el("span", { text: `earlier attempt, replaced by a re-run (${why})` }));
  } else {
    children.push(el("span", { text: judgement ? judgementText(judgement) : outcomeText(judgeRun.outcome) }));
  }
  if (judgement && judgement.thinking) {
    children.push(el("details", {}, [el("summary", { text: "Judge's reasoning" }), pre(judgement.thinking)]));
  }
  return el("li", { className: judgeRun.superseded ? "superseded" : null }, children);
}

function scoreSection(score) {
  const heading = `${score.metric.name}: ${score.status === "scored" ? scoreText(score.mean) : score.status}`;
  const items = [];
  const current = score.judge_runs.filter((judgeRun) => !judgeRun.superseded);
  if (score.judge_runs.length) {
    score.judge_runs.forEach((judgeRun) => {
      const position = current.indexOf(judgeRun);
      items.push(judgeItem(judgeRun, position >= 0 ? score.judgements[position] : null));
    });
  } else {
    // A code check: its verdict is the score's one judgement.
    score.judgements.forEach((judgement) => items.push(el("li", { text: judgementText(judgement) })));
  }
  const children = [el("ul", { className: "judge-list" }, items)];
  if (score.error) children.push(el("p", { className: "bad", text: score.error }));
  return section(heading, children, { "data-metric": score.metric.id });
}

function render(detail) {
  const run = detail.run;
  title.textContent = dialogTitle(detail);
  const parts = [runFacts(run)];
  if (run.error) parts.push(section("Error", [pre(errorText(run.error))]));
  if (detail.scores.length) parts.push(...detail.scores.map(scoreSection));
  parts.push(section("Response", [pre(run.output ?? "")]));
  if (run.reasoning) parts.push(section("Reasoning", [pre(run.reasoning)]));
  if (run.tool_calls && run.tool_calls.length) parts.push(section("Tool calls", [pre(JSON.stringify(run.tool_calls, null, 2))]));
  parts.push(section("Messages as sent", [pre(messagesText(run.messages))]));
  parts.push(section("Request (secrets redacted)", [pre(JSON.stringify(run.request, null, 2))]));
  parts.push(
    section("Row", [
      facts(Object.entries(detail.row.values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)])),
    ]),
  );
  if (detail.attempts.length) {
    parts.push(
      section(
        "Earlier attempts",
        detail.attempts.map((attempt) =>
          el("div", { className: "earlier-attempt" }, [
            el("h4", { text: `Attempt ${attempt.number}` }),
            runFacts(attempt.run),
            attempt.run.error ? pre(errorText(attempt.run.error)) : null,
          ]),
        ),
      ),
    );
  }
  body.replaceChildren(...parts);
}

async function open(button) {
  opener = button;
  title.textContent = "Output";
  body.replaceChildren(el("p", { className: "muted", text: "Loading the run…" }));
  dialog.showModal();
  const { ok, status, data } = await fetchJSON(outputUrl(dialog.dataset.outputUrl, button.dataset.run));
  if (!dialog.open || opener !== button) return;
  if (!ok || !data) {
    body.replaceChildren(el("p", { className: "bad", text: `The run could not be read (HTTP ${status}).` }));
    return;
  }
  render(data);
  const metric = button.dataset.metric;
  const target = metric && body.querySelector(`[data-metric="${CSS.escape(metric)}"]`);
  if (target) target.scrollIntoView({ block: "start" });
}

if (dialog) {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.cell-open");
    if (button) open(button);
  });
  dialog.addEventListener("close", () => {
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
}

// A re-run is submitted once: the buttons are disabled as the form goes (the server refuses a second one anyway).
const rerunForm = document.querySelector("[data-rerun-form]");
if (rerunForm) {
  rerunForm.addEventListener("submit", (event) => {
    const chosen = event.submitter;
    if (rerunForm.dataset.submitted) {
      event.preventDefault();
      return;
    }
    rerunForm.dataset.submitted = "true";
    if (chosen) {
      const scope = el("input", { type: "hidden", name: chosen.name, value: chosen.value });
      rerunForm.appendChild(scope);
    }
    setTimeout(() => rerunForm.querySelectorAll("button").forEach((button) => (button.disabled = true)), 0);
  });
}
