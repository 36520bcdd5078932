// A parameter field's text as the value sent (playground.services.parameter_specs gives each field its kind).

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
