// A column's parameter fields (playground.services.parameter_specs gives each its kind) and their text as the value
// sent.
import { el } from "./dom.js";
import { responseFormatEditor, toolsEditor } from "./editors.js";

/**
 * The value of parameter `name` of `kind` ("number", "integer", "boolean", "choice", "lines" or "json") from its
 * field's non-empty, trimmed text.
 * @throws {Error} with the message to show at the field, when the text is not a value of that kind.
 */
export function parameterValue(name, kind, raw) {
  if (kind === "number" || kind === "integer") {
    const number = Number(raw);
    if (Number.isNaN(number)) throw new Error("Enter a number.");
    return number;
  }
  if (kind === "boolean") return raw === "true";
  if (kind === "choice") return raw;
  if (kind === "lines") return raw.split("\n").map((line) => line.trim()).filter(Boolean);
  if (name === "tool_choice" && /^[a-z]+$/.test(raw)) return raw; // "none", "auto", "required"
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new Error("Not valid JSON: " + error.message);
  }
}

/**
 * Keep a number field and its range slider in step, both ways (the Playground's panel and the new-evaluation form).
 * An empty field sends nothing: the slider then shows no value (no thumb, "default (not sent)") rather than a
 * made-up one.
 * @returns {function} that shows the slider's state again, for when the field's value is set by a script.
 */
export function linkSlider(slider, input) {
  function showUnset() {
    const unset = input.value === "";
    slider.classList.toggle("is-unset", unset);
    if (unset) slider.setAttribute("aria-valuetext", "default (not sent)"); else slider.removeAttribute("aria-valuetext");
  }
  slider.addEventListener("input", function () { input.value = slider.value; showUnset(); });
  input.addEventListener("input", function () { if (input.value !== "") slider.value = input.value; showUnset(); });
  showUnset();
  return showUnset;
}

/** The parameters summary's count: "· 4 supported, 1 set", or "· none supported". */
export function paramCountText(supported, set) {
  return supported ? "· " + supported + " supported" + (set ? ", " + set + " set" : "") : "· none supported";
}

/** A parameter's value (as given, or as stored in a draft) as its field's text for `kind`. */
export function fieldText(kind, value) {
  if (kind === "lines") return [].concat(value).join("\n");
  if (kind === "json") return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return String(value);
}

function numberInput(spec, common, value) {
  const input = el("input", { type: "number", min: spec.min, max: spec.max, step: spec.kind === "integer" ? 1 : spec.step,
    inputmode: spec.kind === "integer" ? "numeric" : "decimal", placeholder: "default", ...common });
  if (spec.kind !== "number") return { input, control: input, refresh: null };
  const slider = el("input", { type: "range", min: spec.min, max: spec.max, step: spec.step, "aria-label": spec.label + " slider", tabindex: -1 });
  slider.value = value !== undefined && value !== null ? value : (spec.min < 0 ? 0 : spec.max / 2);
  const refresh = linkSlider(slider, input);
  return { input, control: el("div", { className: "param-row" }, [slider, input]), refresh };
}

/**
 * A parameter's field (playground.services.parameter_specs gives `spec`: name, label, kind, help, min, max, step,
 * options), with `value` filled in; ids start with `idPrefix`. Its input is [data-input]; tools and response_format
 * get their forms (./editors.js).
 */
export function parameterField(idPrefix, spec, value) {
  const id = idPrefix + "-" + spec.name;
  const helpId = id + "-help";
  const field = el("div", { className: "field param", "data-param": spec.name, "data-kind": spec.kind }, [el("label", { for: id, text: spec.label })]);
  const common = { id: id, "aria-describedby": helpId, "data-input": true };
  let input;
  let control;
  let refresh = null;
  if (spec.kind === "number" || spec.kind === "integer") {
    ({ input, control, refresh } = numberInput(spec, common, value));
  } else if (spec.kind === "boolean" || spec.kind === "choice") {
    const options = spec.kind === "boolean" ? ["true", "false"] : spec.options;
    input = control = el("select", common, [el("option", { value: "", text: "default" }),
      ...options.map((option) => el("option", { value: option, text: option }))]);
  } else {
    input = control = el("textarea", { rows: spec.kind === "lines" ? 2 : 3, spellcheck: "false",
      placeholder: spec.kind === "lines" ? "one per line" : "JSON", ...common });
  }
  field.appendChild(control);
  if (value !== undefined && value !== null) input.value = fieldText(spec.kind, value);
  if (refresh) refresh();
  if (spec.name === "tools") field.appendChild(toolsEditor(input));
  else if (spec.name === "response_format") field.appendChild(responseFormatEditor(input));
  field.appendChild(el("p", { className: "help", id: helpId, text: spec.help }));
  field.appendChild(el("p", { className: "field-errors", "data-error": "param:" + spec.name }));
  return field;
}
