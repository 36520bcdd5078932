// The page's state as the saved prompts and the draft (../prompts.js) read and set it, through window.Playground.
import { addColumn, allColumns, clearColumns, collectParameters, readRawValues, setColumnValues, updateColumnChrome } from "./columns.js";
import { clearErrors } from "./errors.js";
import { collectMessages, collectVariables, setMessages, setVariableValues } from "./messages.js";
import { state } from "./state.js";

/** A saved version's parameters with its tools and response format among them (as a column's fields hold them). */
export function versionParameters(version) {
  const parameters = { ...(version.parameters || {}) };
  if (version.tools) parameters.tools = version.tools;
  if (version.response_format) parameters.response_format = version.response_format;
  return parameters;
}

/** A column's parameters as a version holds them: tools and response_format taken out to their own fields. */
export function versionFields(parameters) {
  const rest = { ...parameters };
  const fields = {};
  ["tools", "response_format"].forEach((name) => {
    if (name in rest) { fields[name] = rest[name]; delete rest[name]; }
  });
  return { parameters: rest, ...fields };
}

/** Everything a draft keeps: messages as written, variable values, each column's model and typed parameters. */
export function snapshot() {
  return {
    messages: collectMessages(),
    variables: collectVariables(),
    columns: allColumns().map((column) => ({ model: column.querySelector("[data-model]").value, parameters: { ...readRawValues(column) } })),
    compare: document.getElementById("compare-toggle").checked,
    stream: document.getElementById("stream").checked,
  };
}

/** Sets the page from a draft (columns of models no longer offered are left out). */
export function restore(draft) {
  if (Array.isArray(draft.messages) && draft.messages.length) setMessages(draft.messages);
  setVariableValues(draft.variables || {});
  const columns = (draft.columns || []).filter((c) => c && state.models[c.model]);
  if (columns.length) {
    clearColumns();
    columns.slice(0, state.data.max_columns).forEach((c) => addColumn(c.model, c.parameters || {}));
  }
  if (typeof draft.stream === "boolean") document.getElementById("stream").checked = draft.stream;
  updateColumnChrome();
}

/** A saved version: its messages, its model in the first column, its parameters in every column. */
export function applyVersion(version) {
  setMessages(version.messages);
  const parameters = versionParameters(version);
  allColumns().forEach((column, index) => {
    const select = column.querySelector("[data-model]");
    if (index === 0 && version.model && state.models[version.model]) select.value = version.model;
    setColumnValues(column, parameters);
  });
}

/** What a new version holds: the messages, the first column's model and parameters (null: a field is wrong). */
export function versionContent() {
  clearErrors();
  const column = allColumns()[0];
  const parameters = collectParameters(column);
  if (parameters === null) return null;
  return { messages: collectMessages(), model: column.querySelector("[data-model]").value, ...versionFields(parameters) };
}
