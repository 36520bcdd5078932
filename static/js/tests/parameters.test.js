// node --test static/js/tests/: parameter fields' text as the values sent.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fieldText, linkSlider, paramCountText, parameterValue } from "../playground/parameters.js";

test("each kind of field gives its kind of value", () => {
  assert.equal(parameterValue("temperature", "number", "0.7"), 0.7);
  assert.equal(parameterValue("max_tokens", "integer", "256"), 256);
  assert.equal(parameterValue("parallel_tool_calls", "boolean", "false"), false);
  assert.equal(parameterValue("reasoning_effort", "choice", "low"), "low");
  assert.deepEqual(parameterValue("stop_sequences", "lines", "END\n\n  ###  "), ["END", "###"]);
  assert.equal(parameterValue("tool_choice", "json", "auto"), "auto");
  assert.deepEqual(parameterValue("tool_choice", "json", '{"type": "function"}'), { type: "function" });
});

test("text that is not a value of its kind says so", () => {
  assert.throws(() => parameterValue("temperature", "number", "warm"), /Enter a number\./);
  assert.throws(() => parameterValue("tools", "json", "[{"), /^Error: Not valid JSON: /);
});

test("the parameters summary counts what the model supports and what is set", () => {
  assert.equal(paramCountText(6, 0), "· 6 supported");
  assert.equal(paramCountText(6, 2), "· 6 supported, 2 set");
  assert.equal(paramCountText(0, 0), "· none supported");
});

test("a value given (a draft, a saved version) reads back as its field's text", () => {
  assert.equal(fieldText("lines", ["END", "###"]), "END\n###");
  assert.equal(fieldText("lines", "END"), "END");
  assert.equal(fieldText("json", { type: "json_object" }), '{\n  "type": "json_object"\n}');
  assert.equal(fieldText("json", "[1]"), "[1]");
  assert.equal(fieldText("number", 0.5), "0.5");
  assert.equal(fieldText("boolean", false), "false");
});

// The least of a DOM element that linkSlider uses: a value, a class list, attributes and input listeners.
function fakeElement(value) {
  const listeners = [];
  return {
    value: value,
    classes: new Set(),
    attributes: {},
    classList: { toggle(name, on) { if (on) this.owner.classes.add(name); else this.owner.classes.delete(name); } },
    setAttribute(name, text) { this.attributes[name] = text; },
    removeAttribute(name) { delete this.attributes[name]; },
    addEventListener(type, listener) { listeners.push(listener); },
    type(text) { this.value = text; listeners.forEach((listener) => listener()); },
  };
}

test("a slider and its number field follow each other, and an empty field shows no value", () => {
  const slider = fakeElement("1");
  const input = fakeElement("");
  slider.classList.owner = slider;
  linkSlider(slider, input);
  assert.ok(slider.classes.has("is-unset"));
  assert.equal(slider.attributes["aria-valuetext"], "default (not sent)");
  input.type("0.7");
  assert.equal(slider.value, "0.7");
  assert.ok(!slider.classes.has("is-unset") && !("aria-valuetext" in slider.attributes));
  slider.type("1.5");
  assert.equal(input.value, "1.5");
  input.type("");
  assert.equal(slider.value, "1.5");
  assert.ok(slider.classes.has("is-unset"));
});
