// A metric's score per column: an LLM-as-judge (or a code check) scoring each answer. Scores come from the
// evaluations' JSON endpoint: POST {"runs": [ids]} starts the judges (idempotent per run and metric), GET ?run=<id>
// reads the score and records it once every judge has answered. A column's score box follows its run and the
// selected metric; columnState(column).scoreKey ("run:metric") is what the box shows, so answers that arrive after
// either changed are dropped.
import { fetchJSON } from "../http.js";
import { el } from "./dom.js";
import { allColumns } from "./columns.js";
import { runDone } from "./runs.js";
import { columnState, state } from "./state.js";

const SCORE_POLL_MS = 400;
const NOTES = {
  waiting: "Scored when the answer is ready.",
  unscored: "Not scored with this metric yet: press Score.",
  requesting: "Asking the judges…",
  pending: "The judges are reading the answer…",
};
const metrics = {};
const metricSelect = () => document.getElementById("metric");
const scoresUrl = (metricId) => state.urls.metrics + encodeURIComponent(metricId) + "/scores";

/** "1 judge", "3 judges". */
export function judgeCount(n) { return n + (n === 1 ? " judge" : " judges"); }

/** What the metric's line under its select says: the judge model and how many, or the code check. */
export function metricInfoText(metric) {
  if (!metric) return "";
  if (metric.kind === "code") return "Code check: " + metric.check + " (no judge model; scored at once).";
  return "Judged by " + metric.judge_model + ", " + judgeCount(metric.judges) + (metric.judges > 1 ? ", averaged." : ".");
}

/** A 422's problems that concern column `index`: those at ["body", "runs", index, ...] and those about no run. */
export function columnProblems(errors, index) {
  return errors.filter((e) => {
    const loc = (e.loc || []).slice(1);
    return !(loc[0] === "runs" && typeof loc[1] === "number" && loc[1] !== index);
  });
}

/** Brings a column's score box in line with its run and the selected metric (loading or starting the score). */
export function syncScore(column) {
  const kept = columnState(column);
  const run = kept.run;
  const metricId = metricSelect().value;
  let auto = false;
  if (run && runDone(run)) { auto = kept.autoScore; kept.autoScore = false; }
  if (!metricId || !run || run.id !== kept.runId || (runDone(run) && run.status !== "succeeded")) {
    hideScore(column);
    return;
  }
  if (!runDone(run)) {
    kept.scoreKey = null;
    renderScore(column, { state: "waiting" });
    return;
  }
  const key = run.id + ":" + metricId;
  if (kept.scoreKey === key) return;
  kept.scoreKey = key;
  if (auto) requestScores([column]); else loadScore(column, key);
}

function hideScore(column) {
  const kept = columnState(column);
  kept.scoreKey = null;
  kept.scoreState = null;
  column.querySelector("[data-score]").hidden = true;
  updateScoreButton();
}

/** Score shows while a column's answer is not scored with the selected metric. */
export function updateScoreButton() {
  document.getElementById("score-runs").hidden = !allColumns().some((c) => columnState(c).scoreState === "unscored");
}

// view: {state: waiting | unscored | requesting | pending | scored | failed | error, score?, message?}
function renderScore(column, view) {
  const metric = metrics[metricSelect().value] || { name: "", judges: 1 };
  const score = view.score || {};
  const shown = view.state;
  const busy = shown === "requesting" || shown === "pending";
  columnState(column).scoreState = shown;
  const box = column.querySelector("[data-score]");
  box.hidden = false;
  box.setAttribute("data-score-state", shown);
  box.setAttribute("aria-busy", busy ? "true" : "false");
  box.querySelector("[data-score-name]").textContent = metric.name;
  const judgements = score.judgements || [];
  const value = box.querySelector("[data-score-value]");
  const hasMean = typeof score.mean === "number";
  const failed = shown === "failed" || shown === "error";
  value.textContent = hasMean ? score.mean.toFixed(2) : (failed ? "failed" : "");
  value.className = "pg-score-value" + (failed ? " status status-failed" : "") + (busy ? " spinner" : "");
  box.querySelector("[data-score-judges]").textContent = metric.kind === "code" ? "code check" : judgeCount(judgements.length || metric.judges);
  box.querySelector("[data-score-bar]").style.width = hasMean ? Math.round(score.mean * 100) + "%" : "0";
  box.querySelector(".pg-score-bar").hidden = !hasMean;
  box.querySelector("[data-score-note]").textContent = NOTES[shown] || "";
  const errorBox = box.querySelector("[data-score-error]");
  const error = shown === "error" ? view.message : score.error;
  errorBox.hidden = !error;
  errorBox.textContent = error ? (metric.kind === "code" ? "Check error: " : "Judge error: ") + error : "";
  // When no judge gave a score, the error box already says why.
  box.querySelector("[data-score-reasons]").hidden = !judgements.some((j) => !("error" in j));
  box.querySelector("[data-score-reason-list]").replaceChildren(...judgements.map((j) => ("error" in j
    ? el("li", { className: "is-error", text: "Error: " + j.error })
    : el("li", {}, [el("strong", { text: Number(j.score).toFixed(2) }), document.createTextNode(" " + (j.reason || ""))]))));
  updateScoreButton();
}

function showScore(column, key, score) {
  if (columnState(column).scoreKey !== key) return;
  if (!score) { renderScore(column, { state: "unscored" }); return; }
  renderScore(column, { state: score.status, score: score });
  if (score.status === "pending") setTimeout(() => pollScore(column, key), SCORE_POLL_MS);
}

async function readScore(key) {
  const [runId, metricId] = key.split(":");
  return fetchJSON(scoresUrl(metricId) + "?run=" + encodeURIComponent(runId));
}

async function loadScore(column, key) {
  const current = () => columnState(column).scoreKey === key;
  try {
    const response = await readScore(key);
    if (!current()) return;
    if (!response.ok || !response.data) {
      renderScore(column, { state: "error", message: "could not read the score (HTTP " + response.status + ")." });
      return;
    }
    showScore(column, key, response.data.scores[0]);
  } catch (error) {
    if (current()) renderScore(column, { state: "error", message: "could not reach the server: " + error.message });
  }
}

async function pollScore(column, key) {
  if (columnState(column).scoreKey !== key || !column.isConnected) return;
  try {
    const response = await readScore(key);
    if (response.ok && response.data) { showScore(column, key, response.data.scores[0]); return; }
  } catch (e) { /* try again */ }
  setTimeout(() => pollScore(column, key), SCORE_POLL_MS);
}

// One request for the given columns (each with a succeeded run and a scoreKey for the selected metric).
async function requestScores(columns) {
  const keys = columns.map((c) => columnState(c).scoreKey);
  const current = (c, i) => columnState(c).scoreKey === keys[i];
  columns.forEach((c) => renderScore(c, { state: "requesting" }));
  let response;
  try {
    response = await fetchJSON(scoresUrl(metricSelect().value), { method: "POST", body: { runs: columns.map((c) => columnState(c).run.id) } });
  } catch (error) {
    columns.forEach((c, i) => { if (current(c, i)) renderScore(c, { state: "error", message: "could not reach the server: " + error.message }); });
    return;
  }
  if (!response.ok || !response.data || !response.data.scores) {
    const detail = response.data && response.data.detail;
    const errors = Array.isArray(detail) ? detail : [];
    columns.forEach((c, i) => {
      if (!current(c, i)) return;
      const mine = columnProblems(errors, i);
      const message = mine.length ? mine.map((e) => e.msg).join(" ") : "could not start the judges (HTTP " + response.status + ").";
      renderScore(c, { state: "error", message: message });
    });
    return;
  }
  const byRun = {};
  response.data.scores.forEach((score) => { byRun[score.run] = score; });
  columns.forEach((c, i) => {
    if (current(c, i)) showScore(c, keys[i], byRun[columnState(c).run.id] || { status: "pending", judgements: [] });
  });
}

/** Wires the metric select and the Score button; the score boxes follow the columns (see syncScore). */
export function initScores() {
  (state.data.metrics || []).forEach((metric) => { metrics[String(metric.id)] = metric; });
  const info = document.getElementById("metric-info");
  metricSelect().addEventListener("change", () => {
    const metric = metrics[metricSelect().value];
    info.hidden = !metric;
    info.textContent = metricInfoText(metric);
    allColumns().forEach(syncScore);
    updateScoreButton();
  });
  document.getElementById("score-runs").addEventListener("click", () => {
    const columns = allColumns().filter((c) => columnState(c).scoreState === "unscored");
    if (columns.length) requestScores(columns);
  });
  document.getElementById("columns").addEventListener("playground:columns", updateScoreButton);
}
