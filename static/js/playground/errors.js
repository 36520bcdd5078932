// Problems shown where they are: a field's error under the field (marked aria-invalid, its <details> opened), the
// server's 422 problems ({"detail": [{"loc", "msg", "type"}]}, the API's shape) placed by their loc.
import { sentMessageItems } from "./messages.js";

/** Adds `message` to the error box `target`; marks `input` invalid and unfolds what hides it. */
export function showError(target, message, input) {
  if (!target) return;
  target.textContent = target.textContent ? target.textContent + " " + message : message;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    const details = input.closest("details");
    if (details) details.open = true;
  }
}

/** Empties every error box of the form. */
export function clearErrors() {
  document.querySelectorAll("#playground [data-error], #messages-errors").forEach((node) => { node.textContent = ""; });
  document.querySelectorAll("#playground [aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** A problem's path in the body, for people: ["columns", 1, "parameters", "temperature"] -> columns[1].parameters.temperature. */
export function problemPath(loc) {
  return loc.reduce((text, part) => text + (typeof part === "number" ? "[" + part + "]" : (text ? "." : "") + part), "");
}

/**
 * Where a problem of the body goes, from its loc without "body": {place: "column", index, part: "parameters" |
 * "prompt_version" | "model", name?}, {place: "message", index}, {place: "variable", name} or {place: "general"}.
 */
export function problemPlace(loc) {
  if (loc[0] === "columns" && typeof loc[1] === "number") {
    if (loc[2] === "parameters" && loc[3] !== undefined) return { place: "column", index: loc[1], part: "parameters", name: String(loc[3]) };
    if (loc[2] === "prompt_version") return { place: "column", index: loc[1], part: "prompt_version" };
    return { place: "column", index: loc[1], part: "model" };
  }
  if (loc[0] === "messages" && typeof loc[1] === "number") return { place: "message", index: loc[1] };
  if (loc[0] === "variables" && loc[1] !== undefined) return { place: "variable", name: String(loc[1]) };
  return { place: "general" };
}

function columnTarget(column, where) {
  if (where.part === "parameters") {
    const field = column.querySelector('[data-param="' + CSS.escape(where.name) + '"]');
    if (field) return [field.querySelector("[data-error]"), field.querySelector("[data-input]")];
  }
  if (where.part === "prompt_version") return [column.querySelector('[data-error="prompt_version"]'), column.querySelector("[data-column-prompt]")];
  return [column.querySelector('[data-error="model"]'), column.querySelector("[data-model]")];
}

/** Shows a 422's problems next to what they are about; `columns` are the columns the request ran, in its order. */
export function showServerErrors(problems, columns) {
  const general = document.getElementById("messages-errors");
  problems.forEach((problem) => {
    const loc = (problem.loc || []).slice(1);
    const where = problemPlace(loc);
    if (where.place === "column" && columns[where.index]) {
      const [target, input] = columnTarget(columns[where.index], where);
      const fieldFound = where.part !== "parameters" || Boolean(input && input.matches("[data-input]"));
      showError(target, fieldFound ? problem.msg : problemPath(loc) + ": " + problem.msg, input);
      return;
    }
    if (where.place === "message") {
      const item = sentMessageItems()[where.index];
      if (item) { showError(item.querySelector("[data-error]"), problem.msg, item.querySelector("textarea")); return; }
    }
    if (where.place === "variable") {
      const field = document.querySelector('[data-variable="' + CSS.escape(where.name) + '"]');
      if (field) { showError(field.querySelector("[data-error]"), problem.msg, field.querySelector("input")); return; }
    }
    const path = problemPath(loc);
    showError(general, (path ? path + ": " : "") + problem.msg);
  });
}
