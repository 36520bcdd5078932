// The Playground page: wiring only. Messages with {{variables}} (./playground/messages.js), one or more model columns
// with exactly the parameters each model supports (./playground/columns.js), runs started and followed until done
// (./playground/running.js), their answers (./playground/result.js), scores (./playground/scores.js) and the history
// (./playground/history.js). What the page keeps between events is in ./playground/state.js; window.Playground
// (./playground/snapshot.js) is what ./prompts.js, loaded after this module, reads and sets.
import { addColumn, allColumns, columnModels, removeColumn, updateColumnChrome } from "./playground/columns.js";
import { initHistory } from "./playground/history.js";
import { addMessage, addNextMessage, continueWith, updateVariables } from "./playground/messages.js";
import { openRun, run, stop } from "./playground/running.js";
import { initScores } from "./playground/scores.js";
import { applyVersion, restore, snapshot, versionContent } from "./playground/snapshot.js";
import { columnState, initState, nextAlias, state } from "./playground/state.js";

const form = document.getElementById("playground");
const columnsEl = document.getElementById("columns");
const compareToggle = document.getElementById("compare-toggle");

initState(JSON.parse(document.getElementById("playground-data").textContent), {
  runs: form.getAttribute("data-runs-url"),
  run: form.getAttribute("data-run-url"),
  metrics: form.getAttribute("data-metrics-url"),
});

// The saved prompt version the messages are, while unedited (./prompts.js knows).
function promptVersion() {
  return window.PlaygroundPrompts ? window.PlaygroundPrompts.runFields().prompt_version : undefined;
}

function runColumns(columns) { return run(columns, promptVersion()); }

async function openFromHistory(runId) {
  await openRun(runId);
  if (window.PlaygroundPrompts) window.PlaygroundPrompts.refresh();
}

// ---- Columns: their buttons, delegated --------------------------------------------------------
columnsEl.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  const column = button && button.closest("[data-column]");
  if (!column) return;
  if (button.matches("[data-run]")) runColumns([column]);
  else if (button.matches("[data-stop]")) stop(column);
  else if (button.matches("[data-continue]")) continueWith(columnState(column).run);
  else if (button.matches("[data-remove-column]")) removeColumn(column);
});

compareToggle.addEventListener("change", () => {
  if (compareToggle.checked) {
    if (allColumns().length < 2) addColumn(nextAlias(state.models, columnModels()));
  } else {
    allColumns().slice(1).forEach(removeColumn);
  }
  updateColumnChrome();
});
document.getElementById("add-column").addEventListener("click", () => {
  const column = addColumn(nextAlias(state.models, columnModels()));
  if (column) column.querySelector("[data-model]").focus();
});
document.getElementById("run-all").addEventListener("click", () => runColumns(allColumns()));

// ---- Messages ---------------------------------------------------------------------------------
document.getElementById("add-message").addEventListener("click", addNextMessage);
document.getElementById("messages").addEventListener("keydown", (event) => {
  if (event.target.matches("textarea") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    runColumns(allColumns());
  }
});
form.addEventListener("submit", (event) => { event.preventDefault(); runColumns(allColumns()); });

// ---- For the saved prompts and the draft (./prompts.js) --------------------------------------
window.Playground = { snapshot, restore, applyVersion, versionContent };

// ---- Start ------------------------------------------------------------------------------------
initScores();
addMessage("system", "");
addMessage("user", "");
updateVariables();
addColumn(state.data.default_alias);
if (state.data.draft) restore(state.data.draft);
initHistory(state.data.history, openFromHistory);
if (state.data.open_run) openFromHistory(state.data.open_run);
