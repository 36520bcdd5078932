// Adding a Playground run to a dataset: the run's variables and its answer (in a column the user picks, such as
// "expected") become a row of the dataset's next version, through POST /api/v2/datasets/{id}/rows {"from_run"}.
// The column's result carries its run as [data-result][data-run-id] and [data-status] (set by ../playground.js).
import { fetchJSON } from "../http.js";

const ROWS_URL = (datasetId) => "/api/v2/datasets/" + encodeURIComponent(datasetId) + "/rows";

/** The dataset's columns in the order to offer for the answer: "expected" first when there is one. */
export function answerColumns(columns) {
  const list = (columns || []).filter(Boolean);
  return list.includes("expected") ? ["expected", ...list.filter((name) => name !== "expected")] : list;
}

/** One problem of a 422 as a sentence with its path: body.from_run.variables.topic: ... */
export function problemText(problem) {
  const loc = (problem.loc || []).filter((part, index) => !(index === 0 && part === "body"));
  return (loc.length ? loc.join(".") + ": " : "") + problem.msg;
}

/** What the answer to the POST says, as lines to show: the errors, or null when it added the row. */
export function answerErrors(response) {
  if (response.ok) return null;
  const detail = response.data && response.data.detail;
  if (Array.isArray(detail)) return detail.map(problemText);
  return [typeof detail === "string" ? detail : "The row could not be added (HTTP " + response.status + ")."];
}

function fillColumns(panel) {
  const option = panel.querySelector("[data-add-row-dataset]").selectedOptions[0];
  const select = panel.querySelector("[data-add-row-column]");
  const current = select.value;
  select.replaceChildren();
  answerColumns((option ? option.getAttribute("data-columns") : "").split(",")).forEach((name) => {
    select.appendChild(new Option(name, name, false, name === current));
  });
}

function sync(result) {
  const panel = result.querySelector("[data-add-row]");
  if (!panel) return;
  panel.hidden = !(result.getAttribute("data-status") === "succeeded" && result.getAttribute("data-run-id"));
  if (!panel.querySelector("[data-add-row-column]").options.length) fillColumns(panel);
}

async function submit(panel) {
  const result = panel.closest("[data-result]");
  const datasetSelect = panel.querySelector("[data-add-row-dataset]");
  const status = panel.querySelector("[data-add-row-status]");
  const errors = panel.querySelector("[data-add-row-errors]");
  const button = panel.querySelector("[data-add-row-submit]");
  errors.replaceChildren();
  status.textContent = "Adding…";
  button.disabled = true;
  const response = await fetchJSON(ROWS_URL(datasetSelect.value), {
    method: "POST",
    body: { from_run: result.getAttribute("data-run-id"), output_column: panel.querySelector("[data-add-row-column]").value },
  }).catch(() => ({ ok: false, status: 0, data: { detail: "The server could not be reached." } }));
  button.disabled = false;
  const problems = answerErrors(response);
  if (problems) {
    status.textContent = "";
    problems.forEach((text) => errors.appendChild(Object.assign(document.createElement("li"), { textContent: text })));
    return;
  }
  const version = response.data;
  // Every column's choice of this dataset now adds to the new version.
  document.querySelectorAll('[data-add-row-dataset] option[data-lineage="' + CSS.escape(version.lineage) + '"]').forEach((option) => {
    option.value = version.id;
    option.textContent = version.name + " v" + version.version;
  });
  const link = Object.assign(document.createElement("a"), {
    href: "/evaluations/datasets/" + version.id,
    textContent: version.name + " v" + version.version,
  });
  status.replaceChildren("Added as row " + version.row_count + " of ", link, ".");
}

function init() {
  const columns = document.getElementById("columns");
  if (!columns) return;
  new MutationObserver((records) => {
    const results = new Set();
    records.forEach((record) => {
      const target = record.target;
      if (target.matches && target.matches("[data-result]")) results.add(target);
      record.addedNodes.forEach((node) => {
        if (node.querySelectorAll) node.querySelectorAll("[data-result]").forEach((result) => results.add(result));
      });
    });
    results.forEach(sync);
  }).observe(columns, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status", "data-run-id"] });
  columns.addEventListener("change", (event) => {
    if (event.target.matches("[data-add-row-dataset]")) fillColumns(event.target.closest("[data-add-row]"));
  });
  columns.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-row-submit]");
    if (button) submit(button.closest("[data-add-row]"));
  });
}

if (typeof document !== "undefined") init();
