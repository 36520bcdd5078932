// Forms for the `tools` and `response_format` parameters. Each edits the parameter's JSON field (`input`, the
// column's [data-input] that collectParameters reads), which stays available, folded, as "As JSON": a form change
// rewrites the JSON, a JSON edit the form reads again. While the form has a problem, `input.dataset.invalid` holds it
// (collectParameters refuses to run and shows it) and each problem is shown next to its field.
import { el } from "./dom.js";
import {
  EMPTY_SCHEMA,
  responseFormatFromValue,
  responseFormatToValue,
  toolsFromValue,
  toolsToValue,
} from "./structured.js";

function parsedOrUndefined(text) {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function setInvalid(input, message) {
  if (message) input.dataset.invalid = message;
  else delete input.dataset.invalid;
}

function asJson(input) {
  input.rows = 4;
  return el("details", { className: "disclosure as-json" }, [el("summary", { text: "As JSON" }), input]);
}

function fieldRow(label, control, error) {
  return el("label", { className: "structured-field" }, [el("span", { className: "small", text: label }), control, error]);
}

/** The tools form over `input`: one card per tool (name, description, parameters as a JSON schema), Add tool. */
export function toolsEditor(input) {
  const list = el("ol", { className: "tool-editors", "data-tool-editors": true });
  const note = el("p", { className: "help", hidden: true, text: "This JSON is not a list of function tools; edit it as JSON." });
  const add = el("button", { type: "button", className: "btn btn-sm", "data-add-tool": true, text: "Add tool" });
  const root = el("div", { className: "structured-editor", "data-tools-editor": true }, [list, note, add, asJson(input)]);
  const initial = toolsFromValue(parsedOrUndefined(input.value));
  let rows = initial || [];
  note.hidden = initial !== null;
  list.hidden = add.hidden = initial === null;

  function write() {
    const { value, problems } = toolsToValue(rows);
    list.querySelectorAll("[data-problem]").forEach((node) => { node.textContent = ""; });
    problems.forEach((problem) => {
      const target = list.children[problem.index]?.querySelector(`[data-problem="${problem.field}"]`);
      if (target) target.textContent = problem.message;
    });
    setInvalid(input, problems.length ? `Tool ${problems[0].index + 1}: ${problems[0].message}` : null);
    input.value = value && value.length ? JSON.stringify(value, null, 2) : "";
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function card(row, index) {
    const number = index + 1;
    const name = el("input", { type: "text", autocomplete: "off", spellcheck: "false", "aria-label": `Tool ${number} name`, placeholder: "get_weather" });
    const description = el("input", { type: "text", "aria-label": `Tool ${number} description`, placeholder: "What it does, for the model" });
    const parameters = el("textarea", { rows: 4, spellcheck: "false", "aria-label": `Tool ${number} parameters (JSON schema)` });
    name.value = row.name;
    description.value = row.description;
    parameters.value = row.parameters;
    name.addEventListener("input", () => { row.name = name.value; write(); });
    description.addEventListener("input", () => { row.description = description.value; write(); });
    parameters.addEventListener("input", () => { row.parameters = parameters.value; write(); });
    const remove = el("button", { type: "button", className: "btn-icon", "aria-label": `Remove tool ${number}`, text: "×" });
    remove.addEventListener("click", () => { rows.splice(index, 1); render(); write(); });
    const problem = (field) => el("span", { className: "field-errors", "data-problem": field });
    return el("li", { className: "tool-editor", "data-tool-editor": true }, [
      el("div", { className: "tool-editor-head" }, [el("span", { className: "label", text: `Tool ${number}` }), remove]),
      fieldRow("Name", name, problem("name")),
      fieldRow("Description", description, null),
      fieldRow("Parameters (JSON schema)", parameters, problem("parameters")),
    ]);
  }

  function render() {
    list.replaceChildren(...rows.map(card));
  }

  add.addEventListener("click", () => {
    rows.push({ name: "", description: "", parameters: EMPTY_SCHEMA });
    render();
    write();
    list.lastElementChild.querySelector("input").focus();
  });
  input.addEventListener("input", () => {
    const fromJson = toolsFromValue(parsedOrUndefined(input.value));
    note.hidden = fromJson !== null;
    list.hidden = add.hidden = fromJson === null;
    setInvalid(input, null);
    if (fromJson !== null) { rows = fromJson; render(); }
  });
  render();
  return root;
}

/** The response format form over `input`: its type, and for a JSON schema its name, strictness and schema. */
export function responseFormatEditor(input) {
  const type = el("select", { "aria-label": "Response format type" }, [
    el("option", { value: "", text: "default (not sent)" }),
    el("option", { value: "text", text: "text" }),
    el("option", { value: "json_object", text: "JSON object" }),
    el("option", { value: "json_schema", text: "JSON schema" }),
  ]);
  const name = el("input", { type: "text", autocomplete: "off", spellcheck: "false", "aria-label": "Schema name", placeholder: "answer" });
  const strict = el("input", { type: "checkbox", "aria-label": "Strict" });
  const schema = el("textarea", { rows: 6, spellcheck: "false", "aria-label": "JSON schema" });
  const problem = (field) => el("span", { className: "field-errors", "data-problem": field });
  const schemaFields = el("div", { className: "structured-schema", "data-schema-fields": true }, [
    fieldRow("Name", name, problem("name")),
    el("label", { className: "toggle small" }, [strict, document.createTextNode(" Strict (the model must follow the schema)")]),
    fieldRow("Schema", schema, problem("schema")),
  ]);
  const note = el("p", { className: "help", hidden: true, text: "This JSON is not a response format the form shows; edit it as JSON." });
  const root = el("div", { className: "structured-editor", "data-response-format-editor": true }, [type, schemaFields, note, asJson(input)]);

  function show(form) {
    type.value = form.type;
    name.value = form.name;
    strict.checked = form.strict;
    schema.value = form.schema;
    schemaFields.hidden = form.type !== "json_schema";
  }

  function write() {
    schemaFields.hidden = type.value !== "json_schema";
    const { value, problems } = responseFormatToValue({ type: type.value, name: name.value, strict: strict.checked, schema: schema.value });
    root.querySelectorAll("[data-problem]").forEach((node) => { node.textContent = ""; });
    problems.forEach((item) => { root.querySelector(`[data-problem="${item.field}"]`).textContent = item.message; });
    setInvalid(input, problems.length ? `Response format: ${problems[0].message}` : null);
    input.value = value ? JSON.stringify(value, null, 2) : "";
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  [type, strict].forEach((control) => control.addEventListener("change", write));
  [name, schema].forEach((control) => control.addEventListener("input", write));
  input.addEventListener("input", () => {
    const form = responseFormatFromValue(parsedOrUndefined(input.value));
    note.hidden = form !== null;
    setInvalid(input, null);
    if (form) show(form);
  });
  const initial = responseFormatFromValue(parsedOrUndefined(input.value));
  note.hidden = initial !== null;
  show(initial || { type: "", name: "", strict: false, schema: EMPTY_SCHEMA });
  return root;
}
