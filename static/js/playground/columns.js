// The model columns: each a model, its own messages or the shared ones (a saved prompt version, to compare prompts),
// exactly the parameters its model supports, and its answer. Built from the page's <template id="column-template">;
// what a column keeps between events is in state.columns (./state.js). The buttons are wired in ../playground.js.
// A change in the number of columns is announced as the "playground:columns" event on #columns.
import { el } from "./dom.js";
import { paramCountText, parameterField, parameterValue } from "./parameters.js";
import { columnState, forgetColumn, nextAlias, nextId, state } from "./state.js";
import { updateVariables } from "./messages.js";
import { showError } from "./errors.js";

const columnsEl = () => document.getElementById("columns");

/** The columns, in order. */
export function allColumns() { return Array.from(columnsEl().querySelectorAll("[data-column]")); }

/** The model aliases the columns run. */
export function columnModels() { return allColumns().map((column) => column.querySelector("[data-model]").value); }

/** The values typed so far in a column's fields, kept in its state so that switching models keeps what still applies. */
export function readRawValues(column) {
  const values = columnState(column).values;
  column.querySelectorAll("[data-param]").forEach((field) => {
    values[field.getAttribute("data-param")] = field.querySelector("[data-input]").value;
  });
  return values;
}

/** Sets a column's parameter values (name -> value or text) and draws its fields again. */
export function setColumnValues(column, values) {
  columnState(column).values = { ...values };
  column.querySelectorAll("[data-param]").forEach((field) => field.remove());
  renderParameters(column);
}

/** Draws a column's fields for its model's supported parameters, in the page's order, with the values kept. */
export function renderParameters(column) {
  const model = state.models[column.querySelector("[data-model]").value];
  const holder = column.querySelector("[data-params]");
  const values = readRawValues(column);
  holder.replaceChildren();
  const supported = model ? model.supported_parameters : [];
  Object.keys(state.data.parameters).forEach((name) => {
    if (supported.includes(name)) holder.appendChild(parameterField(column.id, state.data.parameters[name], values[name] === "" ? undefined : values[name]));
  });
  updateParamCount(column);
  column.querySelector("[data-model-info]").textContent = model ? model.integration + " · sends model “" + model.name + "”" : "";
}

function updateParamCount(column) {
  const fields = Array.from(column.querySelectorAll("[data-param]"));
  const set = fields.filter((f) => f.querySelector("[data-input]").value.trim()).length;
  column.querySelector("[data-param-count]").textContent = paramCountText(fields.length, set);
}

/** A column's Messages select: the shared messages, or a saved prompt version of its own (comparing prompts). */
function setUpColumnPrompt(column) {
  const versions = state.data.prompt_versions || [];
  const promptSelect = column.querySelector("[data-column-prompt]");
  promptSelect.id = column.id + "-prompt";
  column.querySelector("[data-column-prompt-label]").setAttribute("for", promptSelect.id);
  versions.forEach((version) => promptSelect.appendChild(el("option", { value: version.id, text: version.label })));
  column.querySelector("[data-column-prompt-field]").hidden = !versions.length;
  promptSelect.addEventListener("change", updateVariables);
}

/** Adds a column running `alias` (else the first model not yet in a column) with `parameters`; null at the limit. */
export function addColumn(alias, parameters) {
  if (allColumns().length >= state.data.max_columns) return null;
  const column = document.getElementById("column-template").content.firstElementChild.cloneNode(true);
  column.id = nextId("column");
  const select = column.querySelector("[data-model]");
  select.id = column.id + "-model";
  column.querySelector("[data-model-label]").setAttribute("for", select.id);
  const chosen = alias || nextAlias(state.models, columnModels());
  if (chosen && state.models[chosen]) select.value = chosen;
  columnState(column).values = { ...(parameters || {}) };
  select.addEventListener("change", () => renderParameters(column));
  setUpColumnPrompt(column);
  const params = column.querySelector("[data-params]");
  params.addEventListener("input", () => updateParamCount(column));
  params.addEventListener("change", () => updateParamCount(column));
  columnsEl().appendChild(column);
  renderParameters(column);
  updateColumnChrome();
  return column;
}

/** Removes a column (and what the state kept for it). */
export function removeColumn(column) {
  forgetColumn(column);
  column.remove();
  updateColumnChrome();
}

/** Removes every column (before reopening or restoring others). */
export function clearColumns() { allColumns().forEach(removeColumn); }

/** Titles, remove buttons, Run all and Add column for the number of columns; announces the change. */
export function updateColumnChrome() {
  const columns = allColumns();
  const comparing = columns.length > 1;
  columns.forEach((column, index) => {
    column.querySelector("[data-title]").textContent = comparing ? "Column " + (index + 1) : "Model and parameters";
    column.querySelector("[data-remove-column]").hidden = !comparing;
  });
  document.getElementById("compare-toggle").checked = comparing;
  document.getElementById("run-all").hidden = !comparing;
  document.getElementById("add-column").hidden = !comparing || columns.length >= state.data.max_columns;
  columnsEl().dispatchEvent(new CustomEvent("playground:columns"));
}

/** A column's parameters parsed from its fields, or null when one is wrong (shown next to it). */
export function collectParameters(column) {
  const parameters = {};
  let ok = true;
  column.querySelectorAll("[data-param]").forEach((field) => {
    const name = field.getAttribute("data-param");
    const input = field.querySelector("[data-input]");
    if (input.dataset.invalid) {  // a tools or response format form with a problem (./editors.js)
      ok = false;
      showError(field.querySelector("[data-error]"), input.dataset.invalid, null);
      const details = field.closest("details");
      if (details) details.open = true;
      return;
    }
    const raw = input.value.trim();
    if (!raw) return;
    try {
      parameters[name] = parameterValue(name, field.getAttribute("data-kind"), raw);
    } catch (error) {
      ok = false;
      showError(field.querySelector("[data-error]"), error.message, input);
    }
  });
  return ok ? parameters : null;
}
