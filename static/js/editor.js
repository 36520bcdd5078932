// The JSON editor: line numbers, error lines highlighted, a syntax check as you type
// (and before submit), "line N" links that jump to the line, and the alias filter.
(function () {
  "use strict";
  const form = document.querySelector("[data-json-editor]");
  if (!form) return;
  const textarea = form.querySelector("textarea[name=document]");
  const editor = form.querySelector(".code-editor");
  const gutter = editor.querySelector(".gutter");
  const status = document.getElementById("json-status");
  const serverLines = (editor.getAttribute("data-error-lines") || "")
    .split(",").filter(Boolean).map(Number);
  let syntaxLine = null;

  function renderGutter() {
    const count = textarea.value.split("\n").length;
    const fragment = document.createDocumentFragment();
    for (let line = 1; line <= count; line++) {
      const span = document.createElement("span");
      span.textContent = line;
      if (line === syntaxLine || serverLines.indexOf(line) >= 0) span.className = "is-error";
      fragment.appendChild(span);
    }
    gutter.replaceChildren(fragment);
    gutter.scrollTop = textarea.scrollTop;
  }

  function lineOfPosition(text, position) {
    return text.slice(0, position).split("\n").length;
  }

  // Where a JSON text first goes wrong: a small scanner (browsers' JSON.parse messages differ and
  // do not always say where). Throws {position, message}.
  function locateSyntaxError(text) {
    let i = 0;
    function fail(message) { throw { position: i, message: message }; }
    function describe() { return i >= text.length ? "end of input" : "“" + text[i] + "”"; }
    function space() { while (i < text.length && " \t\n\r".indexOf(text[i]) >= 0) i++; }
    function string() {
      i++; // opening quote
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") {
          i++;
          if (i < text.length && 'bfnrt"\\/u'.indexOf(text[i]) < 0) fail("Invalid escape in a string");
        } else if (text.charCodeAt(i) < 0x20) {
          fail("Line break or control character inside a string (missing closing quote?)");
        }
        i++;
      }
      if (i >= text.length) fail("Unterminated string");
      i++;
    }
    function value() {
      space();
      const c = text[i];
      if (c === "{") {
        i++; space();
        if (text[i] === "}") { i++; return; }
        for (;;) {
          space();
          if (text[i] !== '"') fail("Expected a property name in double quotes, found " + describe());
          string(); space();
          if (text[i] !== ":") fail("Expected “:” after the property name, found " + describe());
          i++; value(); space();
          if (text[i] === ",") { i++; space(); if (text[i] === "}") fail("Trailing comma before “}”"); continue; }
          if (text[i] === "}") { i++; return; }
          fail("Expected “,” or “}”, found " + describe());
        }
      } else if (c === "[") {
        i++; space();
        if (text[i] === "]") { i++; return; }
        for (;;) {
          value(); space();
          if (text[i] === ",") { i++; space(); if (text[i] === "]") fail("Trailing comma before “]”"); continue; }
          if (text[i] === "]") { i++; return; }
          fail("Expected “,” or “]”, found " + describe());
        }
      } else if (c === '"') {
        string();
      } else {
        const match = /^(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
        if (!match) fail("Unexpected " + describe());
        i += match[0].length;
      }
    }
    value(); space();
    if (i < text.length) fail("Unexpected " + describe() + " after the document");
  }

  // Returns null when the text parses, else {line, message}.
  function syntaxError(text) {
    try {
      JSON.parse(text);
      return null;
    } catch (error) {
      try {
        locateSyntaxError(text);
      } catch (found) {
        if (found && typeof found.position === "number") {
          return { line: lineOfPosition(text, found.position), message: found.message };
        }
      }
      return { line: text.split("\n").length, message: String(error.message || error) };
    }
  }

  function check() {
    const problem = syntaxError(textarea.value);
    syntaxLine = problem ? problem.line : null;
    if (problem) {
      status.textContent = "JSON syntax error on line " + problem.line + ": " + problem.message;
      status.className = "json-status bad";
    } else {
      status.textContent = "Valid JSON";
      status.className = "json-status ok";
    }
    renderGutter();
    return problem;
  }

  function goToLine(line) {
    const lines = textarea.value.split("\n");
    const start = lines.slice(0, line - 1).reduce(function (sum, l) { return sum + l.length + 1; }, 0);
    const end = start + (lines[line - 1] || "").length;
    textarea.focus();
    textarea.setSelectionRange(start, end);
    const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
  }

  let timer = null;
  textarea.addEventListener("input", function () {
    renderGutter();
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  textarea.addEventListener("scroll", function () { gutter.scrollTop = textarea.scrollTop; });
  // Tab indents instead of leaving the field; Escape then Tab leaves it (keyboard users are not trapped).
  let escaped = false;
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { escaped = true; return; }
    if (event.key === "Tab" && !event.shiftKey && !escaped && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      renderGutter();
    }
    escaped = false;
  });
  form.addEventListener("submit", function (event) {
    const problem = check();
    if (problem) {
      event.preventDefault();
      goToLine(problem.line);
    }
  });
  document.querySelectorAll(".goto-line").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      goToLine(Number(link.getAttribute("data-line")));
    });
  });

  renderGutter();
  if (textarea.value.trim()) check();
  const summary = document.getElementById("document-errors");
  if (summary) summary.focus();

  // Examples replace the document (after asking, if it was edited).
  const examplesData = document.getElementById("integration-examples");
  if (examplesData) {
    const examples = JSON.parse(examplesData.textContent);
    document.querySelectorAll("[data-example]").forEach(function (button) {
      button.addEventListener("click", function () {
        const edited = textarea.value !== textarea.defaultValue;
        if (edited && !window.confirm("Replace the document with the “" + button.dataset.example + "” example?")) return;
        textarea.value = examples[button.dataset.example];
        textarea.defaultValue = textarea.value;
        check();
        textarea.focus();
      });
    });
  }

  // Built-in alias reference: filter as you type, opening the providers that match.
  const filter = document.getElementById("alias-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      const query = filter.value.trim().toLowerCase();
      document.querySelectorAll("[data-provider]").forEach(function (group) {
        let matches = 0;
        group.querySelectorAll("[data-alias]").forEach(function (item) {
          const hit = !query || item.getAttribute("data-alias").indexOf(query) >= 0;
          item.hidden = !hit;
          if (hit) matches++;
        });
        group.hidden = matches === 0;
        group.open = Boolean(query) && matches > 0;
      });
    });
  }
})();
