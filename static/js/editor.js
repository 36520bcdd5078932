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

  // Returns null when the text parses, else {line, message}.
  function syntaxError(text) {
    try {
      JSON.parse(text);
      return null;
    } catch (error) {
      const message = String(error.message || error);
      let line = null;
      const lineColumn = message.match(/line (\d+) column (\d+)/);
      const position = message.match(/position (\d+)/);
      if (lineColumn) line = Number(lineColumn[1]);
      else if (position) line = lineOfPosition(text, Number(position[1]));
      else line = text.split("\n").length; // "Unexpected end of JSON input"
      const short = message.replace(/^JSON\.parse: /, "").replace(/ in JSON at position \d+.*$/, "")
        .replace(/^SyntaxError: /, "");
      return { line: line, message: short };
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
