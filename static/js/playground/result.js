// A run's answer in its column: status, figures, the answer (or its text so far), tool calls, the schema check,
// reasoning folded above, errors, the request as sent, and the buttons that act on it (Stop, Add to conversation).
import { answerTurns } from "./conversation.js";
import { el } from "./dom.js";
import { runDone, tokensPerSecond } from "./runs.js";

/** A running run's partial text, between full reads. */
export function renderLiveOutput(column, text) {
  const output = column.querySelector("[data-output]");
  output.textContent = text;
  output.classList.toggle("is-streaming", Boolean(text));
}

export const STATUS_TEXT = { queued: "queued", running: "running", succeeded: "ok", failed: "failed" };

export function formatLatency(ms) {
  if (ms === null || ms === undefined) return "";
  return ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms";
}

export const FIGURE_TITLES = {
  ttft: "Time to first token: from sending the request to the first text, reasoning or tool call (streamed answers only).",
  rateStreamed: "Tokens per second while writing: completion tokens ÷ (latency − time to first token).",
  rate: "Tokens per second: completion tokens ÷ latency (not streamed: the wait for the first token is included).",
  tokens: "Prompt tokens in, completion tokens out, as the provider counted them.",
  latency: "Latency: from sending the request to the end of the answer (the attempt that answered).",
};

/**
 * A run's four figures, in their order on the page: time to first token, tokens per second, tokens, latency.
 * @returns {Array<{name: "ttft"|"rate"|"tokens"|"latency", text: string, title: string}>} text "" when the run does
 *   not have that figure (yet).
 */
export function answerFigures(run) {
  const usage = run.usage;
  const first = run.time_to_first_token_ms;
  const rate = tokensPerSecond(run);
  const latency = formatLatency(run.latency_ms);
  return [
    { name: "ttft", text: typeof first === "number" ? "First token " + formatLatency(first) : "", title: FIGURE_TITLES.ttft },
    { name: "rate", text: rate === null ? "" : rate.toFixed(1) + " tokens/s",
      title: typeof first === "number" ? FIGURE_TITLES.rateStreamed : FIGURE_TITLES.rate },
    { name: "tokens", text: usage ? "Tokens " + (usage.prompt_tokens || 0) + " in · " + (usage.completion_tokens || 0) + " out" : "",
      title: FIGURE_TITLES.tokens },
    { name: "latency", text: latency ? "Latency " + latency : "", title: FIGURE_TITLES.latency },
  ];
}

function renderFigures(result, run) {
  answerFigures(run).forEach((figure) => {
    const cell = result.querySelector('[data-figure="' + figure.name + '"]');
    cell.textContent = figure.text;
    cell.title = figure.text ? figure.title : "";
  });
}

/** The arguments as indented JSON when they parse, else verbatim (a model may write invalid JSON). */
export function formatArguments(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (error) { return text; }
}

function renderToolCalls(box, toolCalls) {
  box.hidden = !toolCalls.length;
  box.replaceChildren.apply(box, toolCalls.map(function (call) {
    const fn = call.function || {};
    return el("div", { className: "tool-call", "data-tool-call": call.id }, [
      el("div", { className: "tool-call-head" }, [
        el("span", { className: "label", text: "Tool call" }),
        el("code", { "data-tool-name": true, text: fn.name || "" }),
        el("span", { className: "muted small", text: call.id || "" }),
      ]),
      el("pre", { className: "code-block", "data-tool-arguments": true, text: formatArguments(fn.arguments || "") }),
    ]);
  }));
}

/** The answer checked against the run's response format (the server's schema_check), or nothing. */
function renderSchemaCheck(box, check) {
  box.hidden = !check;
  box.classList.toggle("is-valid", Boolean(check && check.valid));
  if (!check) { box.replaceChildren(); return; }
  const what = check.format === "json_schema" ? "the schema" : "a JSON object";
  const verdict = el("strong", { text: check.valid ? "✓ Matches " + what + "." : "✗ Does not match " + what + ":" });
  const errors = el("ul", {}, check.errors.map(function (error) {
    return el("li", {}, [el("code", { text: error.path }), document.createTextNode(" " + error.message)]);
  }));
  box.replaceChildren.apply(box, check.errors.length ? [verdict, errors] : [verdict]);
}

/** A column's answer area for a run read (runners.presenters.run_representation plus schema_check). */
export function renderRunResult(column, runData) {
  const result = column.querySelector("[data-result]");
  result.hidden = false;
  result.setAttribute("data-run-id", runData.id);  // ./dataset-rows.js adds this run to a dataset
  result.setAttribute("data-status", runData.status);
  result.setAttribute("aria-busy", runDone(runData) ? "false" : "true");
  const status = result.querySelector("[data-status]");
  status.textContent = STATUS_TEXT[runData.status] || runData.status;
  status.className = "status status-" + runData.status;
  renderFigures(result, runData);
  const output = result.querySelector("[data-output]");
  const text = runData.output || "";
  output.textContent = text;
  output.classList.toggle("is-streaming", runData.status === "running" && Boolean(text));
  const toolCalls = runData.tool_calls || [];
  if (runData.status === "succeeded" && !text && !toolCalls.length) output.textContent = "(empty answer)";
  renderToolCalls(result.querySelector("[data-tool-calls]"), toolCalls);
  renderSchemaCheck(result.querySelector("[data-schema-check]"), runData.schema_check);
  const reasoning = result.querySelector("[data-reasoning]");
  reasoning.hidden = !runData.reasoning;
  result.querySelector("[data-reasoning-text]").textContent = runData.reasoning || "";
  const errorBox = result.querySelector("[data-error-box]");
  errorBox.hidden = !runData.error;
  errorBox.textContent = runData.error ? runData.error.type + ": " + runData.error.message : "";
  const dropped = result.querySelector("[data-dropped]");
  dropped.hidden = !(runData.dropped_parameters && runData.dropped_parameters.length);
  dropped.textContent = dropped.hidden ? "" : "Not sent (this model does not support them): " + runData.dropped_parameters.join(", ");
  const version = runData.prompt_version_summary;
  result.querySelector("[data-run-prompt]").textContent = version ? "From " + version.name + " v" + version.number : "";
  const request = result.querySelector("[data-request]");
  request.hidden = !runData.request;
  if (runData.request) result.querySelector("[data-request-body]").textContent = JSON.stringify(runData.request, null, 2);
  const hint = column.querySelector("[data-run-hint]");
  const stopping = hint.textContent === "Stopping…" && !runDone(runData);
  hint.textContent = runDone(runData) ? "" : (stopping ? "Stopping…" : (runData.status === "queued" ? "Waiting for a worker…" : "Running…"));
  column.querySelector("[data-stop]").hidden = runDone(runData);
  result.querySelector("[data-continue]").hidden = runData.status !== "succeeded" || !answerTurns(runData).length;
}
