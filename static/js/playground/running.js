// Running columns: one POST of the messages, variables and columns (the Playground's JSON view answers 202 with a run
// per column, or 422 with problems placed by ./errors.js), each run followed until done (./runs.js), Stop, and a
// past run (with its comparison) opened again from the history.
import { fetchJSON } from "../http.js";
import { addColumn, allColumns, clearColumns, collectParameters, updateColumnChrome } from "./columns.js";
import { clearErrors, showError, showServerErrors } from "./errors.js";
import { addHistory, markOpen, updateHistory } from "./history.js";
import { collectMessages, collectVariables, setMessages, setVariableValues, updateVariables } from "./messages.js";
import { renderLiveOutput, renderRunResult } from "./result.js";
import { fetchRun, followRun, runDone, stopRun } from "./runs.js";
import { syncScore } from "./scores.js";
import { columnState, state } from "./state.js";

const generalErrors = () => document.getElementById("messages-errors");

/** What the columns send: [{model, parameters, prompt_version?}], or null when a field is wrong (shown). */
function payloadColumns(columns) {
  let ok = true;
  const payload = columns.map((column) => {
    const parameters = collectParameters(column);
    if (parameters === null) ok = false;
    return {
      model: column.querySelector("[data-model]").value,
      parameters: parameters || {},
      prompt_version: column.querySelector("[data-column-prompt]").value || undefined,
    };
  });
  return ok ? payload : null;
}

/** Draws a run in its column and keeps it as the column's run (its score follows). */
export function renderResult(column, run) {
  renderRunResult(column, run);
  columnState(column).run = run;
  syncScore(column);
}

function follow(column, runId) {
  const url = state.urls.run + runId;
  return followRun(url, url + "/live", {
    isCurrent: () => columnState(column).runId === runId && column.isConnected,
    onUpdate: (run) => { renderResult(column, run); updateHistory(run); },
    onLive: (text) => renderLiveOutput(column, text),
  });
}

function show(column, run, autoScore) {
  const kept = columnState(column);
  kept.runId = run.id;
  kept.autoScore = autoScore;  // a metric selected by the time this run succeeds scores it
  renderResult(column, run);
  if (!runDone(run)) follow(column, run.id);
}

/** Runs `columns` with the messages on the left (`promptVersion`: the saved version they are, if unedited). */
export async function run(columns, promptVersion) {
  if (!columns.length) return;
  clearErrors();
  const payload = payloadColumns(columns);
  if (!payload) return;
  const buttons = [...columns.map((c) => c.querySelector("[data-run]")), document.getElementById("run-all")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const response = await fetchJSON(state.urls.runs, {
      method: "POST",
      body: {
        messages: collectMessages(),
        variables: collectVariables(),
        columns: payload,
        stream: document.getElementById("stream").checked,
        prompt_version: promptVersion,
      },
    });
    if (response.status === 422 && response.data) {
      showServerErrors(Array.isArray(response.data.detail) ? response.data.detail : [], columns);
      return;
    }
    if (!response.ok || !response.data) {
      showError(generalErrors(), "Could not start the run (HTTP " + response.status + ").");
      return;
    }
    response.data.runs.forEach((one, index) => show(columns[index], one, true));
    columns[0].querySelector("[data-result]").scrollIntoView({ block: "nearest" });
    // Newest first, and a comparison's runs in column order.
    response.data.runs.slice().reverse().forEach((one) => addHistory(one, true));
  } catch (error) {
    showError(generalErrors(), "Could not reach the server: " + error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Asks to stop the column's run; it ends `cancelled` with its partial output (the column follows it). */
export async function stop(column) {
  const runId = columnState(column).runId;
  if (!runId) return;
  const button = column.querySelector("[data-stop]");
  const hint = column.querySelector("[data-run-hint]");
  button.disabled = true;
  hint.textContent = "Stopping…";
  const stopped = await stopRun(state.urls.run + runId + "/cancel");
  button.disabled = false;
  if (columnState(column).runId !== runId) return;
  if (stopped.run) {
    renderResult(column, stopped.run);
    updateHistory(stopped.run);
  } else {
    hint.textContent = stopped.error;
  }
}

/** Opens a past run again: its messages, variables and every run of its job, each in its column, in order. */
export async function openRun(runId) {
  const opened = await fetchRun(state.urls.run + runId);
  if (!opened) return;
  markOpen(opened);
  let runs = [opened];
  if (opened.job) {
    const job = await fetchJSON(state.urls.run.replace(/runs\/$/, "jobs/") + opened.job);
    if (job.ok && job.data && job.data.runs.length) runs = job.data.runs;
  }
  setMessages(opened.template || opened.messages || []);
  setVariableValues(opened.variables || {});
  clearColumns();
  // Columns that compared prompts ran different versions: each gets its own back (one shared version is the
  // messages on the left, which the saved prompt card reopens).
  const versionOf = (one) => (one.prompt_version_summary ? one.prompt_version_summary.id : "");
  const comparedPrompts = new Set(runs.map(versionOf)).size > 1;
  runs.forEach((one) => {
    const column = addColumn(one.model, one.parameters || {});
    if (!column) return;
    if (comparedPrompts && state.versionsById[versionOf(one)]) column.querySelector("[data-column-prompt]").value = versionOf(one);
    show(column, one, !runDone(one));
  });
  if (comparedPrompts) {  // the columns' versions may use {{variables}} the messages on the left do not
    updateVariables();
    setVariableValues(opened.variables || {});
  }
  if (!allColumns().length) addColumn(state.data.default_alias);
  updateColumnChrome();
  history.replaceState(null, "", "?run=" + runId);
}
