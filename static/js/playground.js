// The Playground: messages with {{variables}}, one or more model columns with exactly the
// parameters each model supports, runs started through a JSON view and polled until done (./playground/runs.js).
import { answerTurns, toolNameFor, wireMessage } from "./playground/conversation.js";
import { el } from "./playground/dom.js";
import { linkSlider, parameterValue } from "./playground/parameters.js";
import { STATUS_TEXT, formatArguments, renderLiveOutput, renderRunResult } from "./playground/result.js";
import { responseFormatEditor, toolsEditor } from "./playground/editors.js";
import { fetchRun, followRun, messagePreview, runDone, stopRun } from "./playground/runs.js";

(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("playground-data").textContent);
  const form = document.getElementById("playground");
  const columnsEl = document.getElementById("columns");
  const messagesEl = document.getElementById("messages");
  const template = document.getElementById("column-template");
  const compareToggle = document.getElementById("compare-toggle");
  const addColumnButton = document.getElementById("add-column");
  const runAllButton = document.getElementById("run-all");
  const historyEl = document.getElementById("history");
  const runsUrl = form.getAttribute("data-runs-url");
  const runUrl = form.getAttribute("data-run-url");
  // The same rule as prompts/templating.py VARIABLE_RE: a name or a dotted path ({{q.text}}).
  const VARIABLE_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
  const ROLES = [["system", "System"], ["user", "User"], ["assistant", "Assistant"]];

  const models = {};
  data.groups.forEach(function (group) {
    group.models.forEach(function (model) { models[model.alias] = Object.assign({ integration: group.integration }, model); });
  });
  const versionsById = {};
  (data.prompt_versions || []).forEach(function (version) { versionsById[version.id] = version; });
  let columnSeq = 0;
  let messageSeq = 0;

  // ---- Messages and variables -------------------------------------------------------------

  function roleName(role) { return (ROLES.find(function (r) { return r[0] === role; }) || [role, role])[1]; }

  /**
   * A message editor. `extra.tool_calls` (an assistant turn's calls) are shown under its text, read-only;
   * `extra.tool_call_id` makes it the result of that call (a `tool` message), its role fixed.
   */
  function addMessage(role, content, focus, extra) {
    const id = "message-" + (++messageSeq);
    const toolCalls = extra && Array.isArray(extra.tool_calls) && extra.tool_calls.length ? extra.tool_calls : null;
    const isTool = role === "tool";
    const toolName = isTool ? toolNameFor(collectMessages(), extra && extra.tool_call_id) : "";
    const head = isTool
      ? el("span", { className: "message-tool" }, [el("span", { className: "label", text: "Tool result" }),
        el("code", { text: toolName || "?" }), el("span", { className: "muted small", text: extra && extra.tool_call_id })])
      : el("select", { "aria-label": "Role", "data-role-select": true },
        ROLES.map(function (r) { return el("option", { value: r[0], text: r[1], selected: r[0] === role }); }));
    const label = isTool ? "Tool result for " + (toolName || "the call") : roleName(role) + " message";
    const textarea = el("textarea", { id: id, rows: role === "system" || isTool ? 2 : 4, "aria-label": label,
      placeholder: messagePlaceholder(role, Boolean(toolCalls)) });
    textarea.value = content || "";
    const remove = el("button", { type: "button", className: "btn-icon", "data-remove-message": true },
      [el("span", { "aria-hidden": "true", text: "×" }), el("span", { className: "visually-hidden", text: "Remove message" })]);
    const item = el("li", { className: "message", "data-role": role }, [
      el("div", { className: "message-head" }, [head, remove]),
      textarea,
      toolCalls ? toolCallList(toolCalls) : null,
      el("p", { className: "field-errors", "data-error": "message" }),
    ]);
    if (toolCalls) item.setAttribute("data-tool-calls", JSON.stringify(toolCalls));
    if (isTool) item.setAttribute("data-tool-call-id", (extra && extra.tool_call_id) || "");
    if (!isTool) {
      head.addEventListener("change", function () {
        item.setAttribute("data-role", head.value);
        textarea.setAttribute("aria-label", roleName(head.value) + " message");
      });
    }
    remove.addEventListener("click", function () {
      item.remove();
      updateRemoveButtons();
      updateVariables();
    });
    textarea.addEventListener("input", updateVariables);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run(allColumns());
      }
    });
    messagesEl.appendChild(item);
    updateRemoveButtons();
    if (focus) textarea.focus();
    return item;
  }

  function messagePlaceholder(role, callsTools) {
    if (role === "system") return "You are a helpful assistant.";
    if (role === "tool") return "What the tool returned, e.g. {\"temperature\": 21}";
    if (callsTools) return "No text: the model only called tools.";
    return "Write a message. Use {{name}} for a variable.";
  }

  /** An assistant turn's tool calls in the messages: name and arguments, as the answer showed them. */
  function toolCallList(calls) {
    return el("div", { className: "tool-calls" }, calls.map(function (call) {
      const fn = call.function || {};
      return el("div", { className: "tool-call", "data-message-tool-call": call.id }, [
        el("div", { className: "tool-call-head" }, [
          el("span", { className: "label", text: "Calls" }),
          el("code", { text: fn.name || "" }),
          el("span", { className: "muted small", text: call.id || "" }),
        ]),
        el("pre", { className: "code-block", text: formatArguments(fn.arguments || "") }),
      ]);
    }));
  }

  /** Continue the conversation with a column's answer: its turns added to the messages, then the next to write. */
  function continueWith(column) {
    const turns = answerTurns(column._run);
    if (!turns.length) return;
    turns.forEach(function (turn) { addMessage(turn.role, turn.content, false, turn); });
    const firstTool = messageItems().find(function (item) {
      return item.getAttribute("data-role") === "tool" && !item.querySelector("textarea").value;
    });
    if (firstTool) firstTool.querySelector("textarea").focus();
    else addMessage("user", "", true);
    updateVariables();
  }

  function updateRemoveButtons() {
    const items = messagesEl.querySelectorAll(".message");
    items.forEach(function (item) { item.querySelector("[data-remove-message]").hidden = items.length <= 1; });
  }

  function messageItems() { return Array.from(messagesEl.querySelectorAll(".message")); }

  function collectMessages() {
    return messageItems()
      .map(function (item) {
        const calls = item.getAttribute("data-tool-calls");
        return wireMessage({
          role: item.getAttribute("data-role"),
          content: item.querySelector("textarea").value,
          toolCalls: calls ? JSON.parse(calls) : null,
          toolCallId: item.getAttribute("data-tool-call-id"),
        });
      })
      .filter(function (message) { return message.role !== "system" || message.content.trim(); });
  }

  function setMessages(messages) {
    messagesEl.replaceChildren();
    if (!messages.some(function (m) { return m.role === "system"; })) addMessage("system", "");
    messages.forEach(function (m) {
      const content = m.content === null || m.content === undefined ? "" : m.content;
      addMessage(m.role, typeof content === "string" ? content : JSON.stringify(content), false, m);
    });
    updateVariables();
  }

  function variableNames() {
    const names = [];
    allColumns().forEach(function (column) {
      const version = versionsById[column.querySelector("[data-column-prompt]").value];
      if (version) version.variables.forEach(function (name) { if (names.indexOf(name) < 0) names.push(name); });
    });
    messageItems().forEach(function (item) {
      const text = item.querySelector("textarea").value;
      let match;
      VARIABLE_RE.lastIndex = 0;
      while ((match = VARIABLE_RE.exec(text))) if (names.indexOf(match[1]) < 0) names.push(match[1]);
    });
    return names;
  }

  function updateVariables() {
    const holder = document.getElementById("variable-fields");
    const names = variableNames();
    const existing = {};
    holder.querySelectorAll("[data-variable]").forEach(function (field) {
      existing[field.getAttribute("data-variable")] = field;
    });
    names.forEach(function (name) {
      if (existing[name]) { holder.appendChild(existing[name]); return; }
      const id = "variable-" + name;
      const field = el("div", { className: "field", "data-variable": name }, [
        el("label", { for: id }, [el("code", { text: "{{" + name + "}}" })]),
        el("input", { type: "text", id: id, autocomplete: "off" }),
        el("p", { className: "field-errors", "data-error": "variable" }),
      ]);
      holder.appendChild(field);
    });
    Object.keys(existing).forEach(function (name) { if (names.indexOf(name) < 0) existing[name].remove(); });
    document.getElementById("variables").hidden = names.length === 0;
  }

  function collectVariables() {
    const values = {};
    document.querySelectorAll("[data-variable]").forEach(function (field) {
      values[field.getAttribute("data-variable")] = field.querySelector("input").value;
    });
    return values;
  }

  // ---- Columns and parameter fields -------------------------------------------------------

  function allColumns() { return Array.from(columnsEl.querySelectorAll("[data-column]")); }

  function parameterField(column, spec, value) {
    const id = column.id + "-" + spec.name;
    const helpId = id + "-help";
    const field = el("div", { className: "field param", "data-param": spec.name, "data-kind": spec.kind });
    field.appendChild(el("label", { for: id, text: spec.label }));
    let input;
    let showUnset = null;
    const common = { id: id, "aria-describedby": helpId, "data-input": true };
    if (spec.kind === "number" || spec.kind === "integer") {
      input = el("input", Object.assign({ type: "number", min: spec.min, max: spec.max,
        step: spec.kind === "integer" ? 1 : spec.step, inputmode: spec.kind === "integer" ? "numeric" : "decimal",
        placeholder: "default" }, common));
      if (spec.kind === "number") {
        const slider = el("input", { type: "range", min: spec.min, max: spec.max, step: spec.step,
          "aria-label": spec.label + " slider", tabindex: -1 });
        slider.value = value !== undefined && value !== null ? value : (spec.min < 0 ? 0 : spec.max / 2);
        showUnset = linkSlider(slider, input);
        field.appendChild(el("div", { className: "param-row" }, [slider, input]));
      } else {
        field.appendChild(input);
      }
    } else if (spec.kind === "boolean" || spec.kind === "choice") {
      const options = spec.kind === "boolean" ? ["true", "false"] : spec.options;
      input = el("select", common, [el("option", { value: "", text: "default" })].concat(
        options.map(function (option) { return el("option", { value: option, text: option }); })));
      field.appendChild(input);
    } else {
      input = el("textarea", Object.assign({ rows: spec.kind === "lines" ? 2 : 3, spellcheck: "false",
        placeholder: spec.kind === "lines" ? "one per line" : "JSON" }, common));
      field.appendChild(input);
    }
    if (value !== undefined && value !== null) {
      if (spec.kind === "lines") input.value = [].concat(value).join("\n");
      else if (spec.kind === "json") input.value = typeof value === "string" ? value : JSON.stringify(value, null, 2);
      else input.value = String(value);
    }
    if (showUnset) showUnset();
    if (spec.name === "tools") field.appendChild(toolsEditor(input));
    else if (spec.name === "response_format") field.appendChild(responseFormatEditor(input));
    field.appendChild(el("p", { className: "help", id: helpId, text: spec.help }));
    field.appendChild(el("p", { className: "field-errors", "data-error": "param:" + spec.name }));
    return field;
  }

  // Values typed so far, kept per column so that switching models keeps what still applies.
  function readRawValues(column) {
    const values = column._values || {};
    column.querySelectorAll("[data-param]").forEach(function (field) {
      const input = field.querySelector("[data-input]");
      values[field.getAttribute("data-param")] = input.value;
    });
    column._values = values;
    return values;
  }

  function renderParameters(column) {
    const select = column.querySelector("[data-model]");
    const model = models[select.value];
    const holder = column.querySelector("[data-params]");
    const values = readRawValues(column);
    holder.replaceChildren();
    const supported = model ? model.supported_parameters : [];
    Object.keys(data.parameters).forEach(function (name) {
      if (supported.indexOf(name) >= 0) holder.appendChild(parameterField(column, data.parameters[name], values[name] === "" ? undefined : values[name]));
    });
    updateParamCount(column);
    column.querySelector("[data-model-info]").textContent = model
      ? model.integration + " · sends model “" + model.name + "”" : "";
  }

  /** A column's Messages select: the shared messages, or a saved prompt version of its own (comparing prompts). */
  function setUpColumnPrompt(column) {
    const promptSelect = column.querySelector("[data-column-prompt]");
    promptSelect.id = column.id + "-prompt";
    column.querySelector("[data-column-prompt-label]").setAttribute("for", promptSelect.id);
    (data.prompt_versions || []).forEach(function (version) {
      promptSelect.appendChild(el("option", { value: version.id, text: version.label }));
    });
    column.querySelector("[data-column-prompt-field]").hidden = !(data.prompt_versions || []).length;
    promptSelect.addEventListener("change", updateVariables);
  }

  function updateParamCount(column) {
    const fields = column.querySelectorAll("[data-param]");
    const set = Array.from(fields).filter(function (f) { return f.querySelector("[data-input]").value.trim(); }).length;
    column.querySelector("[data-param-count]").textContent = fields.length
      ? "· " + fields.length + " supported" + (set ? ", " + set + " set" : "") : "· none supported";
  }

  function addColumn(alias, parameters) {
    if (allColumns().length >= data.max_columns) return null;
    const column = template.content.firstElementChild.cloneNode(true);
    column.id = "column-" + (++columnSeq);
    const select = column.querySelector("[data-model]");
    select.id = column.id + "-model";
    column.querySelector("[data-model-label]").setAttribute("for", select.id);
    if (alias && models[alias]) select.value = alias;
    column._values = {};
    Object.entries(parameters || {}).forEach(function ([name, value]) { column._values[name] = value; });
    select.addEventListener("change", function () { renderParameters(column); });
    setUpColumnPrompt(column);
    column.querySelector("[data-params]").addEventListener("input", function () { updateParamCount(column); });
    column.querySelector("[data-params]").addEventListener("change", function () { updateParamCount(column); });
    column.querySelector("[data-run]").addEventListener("click", function () { run([column]); });
    column.querySelector("[data-stop]").addEventListener("click", function () { stop(column); });
    column.querySelector("[data-continue]").addEventListener("click", function () { continueWith(column); });
    column.querySelector("[data-remove-column]").addEventListener("click", function () {
      column.remove();
      if (allColumns().length < 2) { compareToggle.checked = false; }
      updateColumnChrome();
    });
    columnsEl.appendChild(column);
    renderParameters(column);
    updateColumnChrome();
    return column;
  }

  function updateColumnChrome() {
    const columns = allColumns();
    const comparing = columns.length > 1;
    columns.forEach(function (column, index) {
      column.querySelector("[data-title]").textContent = comparing ? "Column " + (index + 1) : "Model and parameters";
      column.querySelector("[data-remove-column]").hidden = !comparing;
    });
    runAllButton.hidden = !comparing;
    addColumnButton.hidden = !comparing || columns.length >= data.max_columns;
    updateScoreButton();
  }

  function nextAlias(exclude) {
    const aliases = Object.keys(models);
    return aliases.find(function (alias) { return exclude.indexOf(alias) < 0; }) || aliases[0];
  }

  compareToggle.addEventListener("change", function () {
    if (compareToggle.checked) {
      if (allColumns().length < 2) {
        addColumn(nextAlias(allColumns().map(function (c) { return c.querySelector("[data-model]").value; })));
      }
    } else {
      allColumns().slice(1).forEach(function (column) { column.remove(); });
    }
    updateColumnChrome();
  });
  addColumnButton.addEventListener("click", function () {
    const column = addColumn(nextAlias(allColumns().map(function (c) { return c.querySelector("[data-model]").value; })));
    if (column) column.querySelector("[data-model]").focus();
  });
  runAllButton.addEventListener("click", function () { run(allColumns()); });
  document.getElementById("add-message").addEventListener("click", function () {
    const items = messageItems();
    const last = items.length ? items[items.length - 1].getAttribute("data-role") : "system";
    addMessage(last === "user" ? "assistant" : "user", "", true);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); run(allColumns()); });

  // ---- Running ----------------------------------------------------------------------------

  // Parameters of a column, parsed from the fields; problems are shown next to the fields.
  function collectParameters(column) {
    const parameters = {};
    let ok = true;
    column.querySelectorAll("[data-param]").forEach(function (field) {
      const name = field.getAttribute("data-param");
      const kind = field.getAttribute("data-kind");
      const input = field.querySelector("[data-input]");
      if (input.dataset.invalid) {
        ok = false;
        showError(field.querySelector("[data-error]"), input.dataset.invalid, null);
        const details = field.closest("details");
        if (details) details.open = true;
        return;
      }
      const raw = input.value.trim();
      if (!raw) return;
      try {
        parameters[name] = parameterValue(name, kind, raw);
      } catch (error) {
        ok = false;
        showError(field.querySelector("[data-error]"), error.message, field.querySelector("[data-input]"));
      }
    });
    return ok ? parameters : null;
  }

  function showError(target, message, input) {
    if (!target) return;
    target.textContent = target.textContent ? target.textContent + " " + message : message;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      const details = input.closest("details");
      if (details) details.open = true;
    }
  }

  function clearErrors() {
    document.querySelectorAll("#playground [data-error], #messages-errors").forEach(function (node) { node.textContent = ""; });
    document.querySelectorAll("#playground [aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }

  // A problem's path in the body, for people: columns[1].parameters.temperature.
  function problemPath(loc) {
    return loc.reduce(function (text, part) {
      return text + (typeof part === "number" ? "[" + part + "]" : (text ? "." : "") + part);
    }, "");
  }

  // The 422's problems ({"detail": [{"loc", "msg", "type"}]}, the API's shape) have a loc in the body:
  // ["body", "columns", i, "parameters", name], ["body", "messages", j, ...], ["body", "variables", name].
  function showServerErrors(problems, columns) {
    const general = document.getElementById("messages-errors");
    problems.forEach(function (problem) {
      const loc = (problem.loc || []).slice(1);
      const error = { path: problemPath(loc), message: problem.msg };
      let target = null;
      let input = null;
      if (loc[0] === "columns" && typeof loc[1] === "number" && columns[loc[1]]) {
        const column = columns[loc[1]];
        if (loc[2] === "parameters" && loc[3] !== undefined) {
          const field = column.querySelector('[data-param="' + CSS.escape(String(loc[3])) + '"]');
          if (field) { target = field.querySelector("[data-error]"); input = field.querySelector("[data-input]"); }
        }
        if (loc[2] === "prompt_version") {
          target = column.querySelector('[data-error="prompt_version"]');
          input = column.querySelector("[data-column-prompt]");
        }
        if (!target) { target = column.querySelector('[data-error="model"]'); input = column.querySelector("[data-model]"); }
        showError(target, loc[2] === "parameters" && !input ? error.path + ": " + error.message : error.message, input);
        return;
      }
      if (loc[0] === "messages" && typeof loc[1] === "number") {
        const item = messageItems().filter(function (i) {
          return i.getAttribute("data-role") !== "system" || i.querySelector("textarea").value.trim();
        })[loc[1]];
        if (item) { showError(item.querySelector("[data-error]"), error.message, item.querySelector("textarea")); return; }
      }
      if (loc[0] === "variables") {
        const field = document.querySelector('[data-variable="' + CSS.escape(String(loc[1])) + '"]');
        if (field) { showError(field.querySelector("[data-error]"), error.message, field.querySelector("input")); return; }
      }
      showError(general, (error.path ? error.path + ": " : "") + error.message);
    });
  }

  async function run(columns) {
    if (!columns.length) return;
    clearErrors();
    const payloadColumns = [];
    let ok = true;
    columns.forEach(function (column) {
      const parameters = collectParameters(column);
      if (parameters === null) ok = false;
      payloadColumns.push({
        model: column.querySelector("[data-model]").value,
        parameters: parameters || {},
        prompt_version: column.querySelector("[data-column-prompt]").value || undefined,
      });
    });
    if (!ok) return;
    const buttons = columns.map(function (c) { return c.querySelector("[data-run]"); }).concat([runAllButton]);
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      const response = await window.App.fetchJSON(runsUrl, {
        method: "POST",
        body: {
          messages: collectMessages(),
          variables: collectVariables(),
          columns: payloadColumns,
          stream: document.getElementById("stream").checked,
          prompt_version: window.PlaygroundPrompts ? window.PlaygroundPrompts.runFields().prompt_version : undefined,
        },
      });
      if (response.status === 422 && response.data) {
        showServerErrors(Array.isArray(response.data.detail) ? response.data.detail : [], columns);
        return;
      }
      if (!response.ok || !response.data) {
        showError(document.getElementById("messages-errors"), "Could not start the run (HTTP " + response.status + ").");
        return;
      }
      response.data.runs.forEach(function (runData, index) {
        const column = columns[index];
        column._runId = runData.id;
        column._autoScore = true;  // a metric selected by the time this run succeeds scores it
        renderResult(column, runData);
        poll(column, runData.id);
      });
      columns[0].querySelector("[data-result]").scrollIntoView({ block: "nearest" });
      // Newest first, and a comparison's runs in column order.
      response.data.runs.slice().reverse().forEach(function (runData) { addHistory(runData, true); });
    } catch (error) {
      showError(document.getElementById("messages-errors"), "Could not reach the server: " + error.message);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  async function stop(column) {
    const runId = column._runId;
    if (!runId) return;
    const button = column.querySelector("[data-stop]");
    button.disabled = true;
    column.querySelector("[data-run-hint]").textContent = "Stopping…";
    const stopped = await stopRun(runUrl + runId + "/cancel");
    button.disabled = false;
    if (column._runId !== runId) return;
    if (stopped.run) {
      renderResult(column, stopped.run);
      updateHistory(stopped.run);
    } else {
      column.querySelector("[data-run-hint]").textContent = stopped.error;
    }
  }

  function poll(column, runId) {
    return followRun(runUrl + runId, runUrl + runId + "/live", {
      isCurrent: function () { return column._runId === runId && column.isConnected; },
      onUpdate: function (runData) { renderResult(column, runData); updateHistory(runData); },
      onLive: function (text) { renderLiveOutput(column, text); },
    });
  }

  function renderResult(column, runData) {
    renderRunResult(column, runData);
    column._run = runData;
    syncScore(column);
  }

  // ---- History ----------------------------------------------------------------------------

  function historyItem(runData) {
    const time = new Date(runData.created_at);
    const status = el("span", { className: "status status-" + runData.status, text: STATUS_TEXT[runData.status] || runData.status });
    const version = runData.prompt_version_summary;
    const button = el("a", { href: "?run=" + runData.id, "data-run-id": runData.id, "data-job": runData.job }, [
      el("span", { className: "h-top" }, [el("span", { "data-models": true, text: runData.model }), status]),
      el("span", { className: "h-text", text: (messagePreview(runData.messages) || "(no user message)") }),
      version ? el("span", { className: "h-text", text: version.name + " v" + version.number }) : null,
      el("span", { className: "h-text", text: time.toLocaleString() }),
    ]);
    button.addEventListener("click", function (event) { event.preventDefault(); openRun(runData.id); });
    return el("li", {}, [button]);
  }

  // A comparison's runs share their job: they are one history entry listing the models in column order.
  function addHistory(runData, prepend) {
    document.getElementById("history-empty").hidden = true;
    const same = runData.job && historyEl.querySelector('[data-job="' + CSS.escape(runData.job) + '"]');
    if (same) {
      // Either way the runs come last column first (newest first, or reversed when just started).
      const names = same.querySelector("[data-models]");
      names.textContent = runData.model + " · " + names.textContent;
      same.setAttribute("data-run-id", runData.id);
      return;
    }
    const item = historyItem(runData);
    if (prepend) historyEl.prepend(item); else historyEl.appendChild(item);
  }

  function updateHistory(runData) {
    const button = historyEl.querySelector('[data-run-id="' + CSS.escape(runData.id) + '"]');
    if (!button) return;
    const status = button.querySelector(".status");
    status.textContent = STATUS_TEXT[runData.status] || runData.status;
    status.className = "status status-" + runData.status;
  }

  async function openRun(runId) {
    const runData = await fetchRun(runUrl + runId);
    if (!runData) return;
    historyEl.querySelectorAll("[data-run-id]").forEach(function (b) {
      if (b.getAttribute("data-run-id") === runId || (runData.job && b.getAttribute("data-job") === runData.job)) {
        b.setAttribute("aria-current", "true");
      } else b.removeAttribute("aria-current");
    });
    // Every run of its job, in column order: a comparison reopens as the comparison.
    let runs = [runData];
    if (runData.job) {
      const job = await window.App.fetchJSON(form.getAttribute("data-run-url").replace(/runs\/$/, "jobs/") + runData.job);
      if (job.ok && job.data && job.data.runs.length) runs = job.data.runs;
    }
    setMessages(runData.template || runData.messages || []);
    setVariableValues(runData.variables || {});
    allColumns().forEach(function (column) { column.remove(); });
    // Columns that compared prompts ran different versions: each gets its own back (one shared version is the
    // messages on the left, which the saved prompt card reopens).
    const versionOf = function (one) { return one.prompt_version_summary ? one.prompt_version_summary.id : ""; };
    const comparedPrompts = new Set(runs.map(versionOf)).size > 1;
    runs.forEach(function (one) {
      const column = addColumn(one.model, one.parameters || {});
      if (!column) return;
      if (comparedPrompts && versionsById[versionOf(one)]) column.querySelector("[data-column-prompt]").value = versionOf(one);
      column._runId = one.id;
      column._autoScore = !runDone(one);
      renderResult(column, one);
      if (!runDone(one)) poll(column, one.id);
    });
    if (comparedPrompts) {  // the columns' versions may use {{variables}} the messages on the left do not
      updateVariables();
      setVariableValues(runData.variables || {});
    }
    if (!allColumns().length) addColumn(data.default_alias);
    compareToggle.checked = allColumns().length > 1;
    updateColumnChrome();
    if (window.PlaygroundPrompts) window.PlaygroundPrompts.refresh();
    history.replaceState(null, "", "?run=" + runId);
  }

  function setVariableValues(values) {
    document.querySelectorAll("[data-variable]").forEach(function (field) {
      const name = field.getAttribute("data-variable");
      if (typeof values[name] === "string") field.querySelector("input").value = values[name];
    });
  }

  // ---- State for the saved prompts and the draft (static/js/prompts.js) ------------------------
  window.Playground = {
    // Everything a draft keeps: messages as written, variable values, each column's model and typed parameters.
    snapshot: function () {
      return {
        messages: collectMessages(),
        variables: collectVariables(),
        columns: allColumns().map(function (column) {
          return { model: column.querySelector("[data-model]").value, parameters: Object.assign({}, readRawValues(column)) };
        }),
        compare: compareToggle.checked,
        stream: document.getElementById("stream").checked,
      };
    },
    restore: function (state) {
      if (Array.isArray(state.messages) && state.messages.length) setMessages(state.messages);
      setVariableValues(state.variables || {});
      const columns = (state.columns || []).filter(function (c) { return c && models[c.model]; });
      if (columns.length) {
        allColumns().forEach(function (column) { column.remove(); });
        columns.slice(0, data.max_columns).forEach(function (c) { addColumn(c.model, c.parameters || {}); });
      }
      compareToggle.checked = allColumns().length > 1;
      if (typeof state.stream === "boolean") document.getElementById("stream").checked = state.stream;
      updateColumnChrome();
    },
    // A saved version: its messages, its model in the first column, its parameters in every column.
    applyVersion: function (version) {
      setMessages(version.messages);
      const parameters = Object.assign({}, version.parameters || {});
      if (version.tools) parameters.tools = version.tools;
      if (version.response_format) parameters.response_format = version.response_format;
      allColumns().forEach(function (column, index) {
        const select = column.querySelector("[data-model]");
        if (index === 0 && version.model && models[version.model]) select.value = version.model;
        column._values = Object.assign({}, parameters);
        column.querySelectorAll("[data-param]").forEach(function (field) { field.remove(); });
        renderParameters(column);
      });
    },
    // What a new version holds: the messages, the first column's model and parameters (null: a field is wrong).
    versionContent: function () {
      clearErrors();
      const column = allColumns()[0];
      const parameters = collectParameters(column);
      if (parameters === null) return null;
      const content = { messages: collectMessages(), model: column.querySelector("[data-model]").value, parameters: parameters };
      ["tools", "response_format"].forEach(function (name) {
        if (name in parameters) { content[name] = parameters[name]; delete parameters[name]; }
      });
      return content;
    },
  };

  // ---- Metric: an LLM-as-judge score per column -------------------------------------------
  // Scores come from the evaluations' JSON endpoint: POST {"runs": [ids]} starts the judges (idempotent
  // per run and metric), GET ?run=<id> reads the score and records it once every judge has answered.

  const metricSelect = document.getElementById("metric");
  const scoreButton = document.getElementById("score-runs");
  const metricInfo = document.getElementById("metric-info");
  const metricsUrl = form.getAttribute("data-metrics-url");
  const metrics = {};
  (data.metrics || []).forEach(function (metric) { metrics[String(metric.id)] = metric; });
  const SCORE_POLL_MS = 400;

  function scoresUrl(metricId) { return metricsUrl + encodeURIComponent(metricId) + "/scores"; }

  function judgeCount(n) { return n + (n === 1 ? " judge" : " judges"); }

  // The column's score box follows its run and the selected metric; _scoreKey ("run:metric") is what the
  // box shows, so answers that arrive after either changed are dropped.
  function syncScore(column) {
    const run = column._run;
    const metricId = metricSelect.value;
    let auto = false;
    if (run && runDone(run)) { auto = column._autoScore; column._autoScore = false; }
    if (!metricId || !run || run.id !== column._runId || (runDone(run) && run.status !== "succeeded")) {
      hideScore(column);
      return;
    }
    if (!runDone(run)) {
      column._scoreKey = null;
      renderScore(column, { state: "waiting" });
      return;
    }
    const key = run.id + ":" + metricId;
    if (column._scoreKey === key) return;
    column._scoreKey = key;
    if (auto) requestScores([column]); else loadScore(column, key);
  }

  function hideScore(column) {
    column._scoreKey = null;
    column._scoreState = null;
    column.querySelector("[data-score]").hidden = true;
    updateScoreButton();
  }

  function updateScoreButton() {
    scoreButton.hidden = !allColumns().some(function (c) { return c._scoreState === "unscored"; });
  }

  // view: {state: waiting | unscored | requesting | pending | scored | failed | error, score?, message?}
  function renderScore(column, view) {
    const metric = metrics[metricSelect.value] || { name: "", judges: 1 };
    const score = view.score || {};
    const state = view.state;
    column._scoreState = state;
    const box = column.querySelector("[data-score]");
    box.hidden = false;
    box.setAttribute("data-score-state", state);
    box.setAttribute("aria-busy", state === "requesting" || state === "pending" ? "true" : "false");
    box.querySelector("[data-score-name]").textContent = metric.name;
    const judgements = score.judgements || [];
    const value = box.querySelector("[data-score-value]");
    const hasMean = typeof score.mean === "number";
    const failed = state === "failed" || state === "error";
    value.textContent = hasMean ? score.mean.toFixed(2) : (failed ? "failed" : "");
    value.className = "pg-score-value" + (failed ? " status status-failed" : "")
      + (state === "requesting" || state === "pending" ? " spinner" : "");
    box.querySelector("[data-score-judges]").textContent = metric.kind === "code"
      ? "code check" : judgeCount(judgements.length || metric.judges);
    box.querySelector("[data-score-bar]").style.width = hasMean ? Math.round(score.mean * 100) + "%" : "0";
    box.querySelector(".pg-score-bar").hidden = !hasMean;
    const NOTES = {
      waiting: "Scored when the answer is ready.",
      unscored: "Not scored with this metric yet: press Score.",
      requesting: "Asking the judges…",
      pending: "The judges are reading the answer…",
    };
    box.querySelector("[data-score-note]").textContent = NOTES[state] || "";
    const errorBox = box.querySelector("[data-score-error]");
    const error = state === "error" ? view.message : score.error;
    errorBox.hidden = !error;
    errorBox.textContent = error ? (metric.kind === "code" ? "Check error: " : "Judge error: ") + error : "";
    const reasons = box.querySelector("[data-score-reasons]");
    // When no judge gave a score, the error box already says why.
    reasons.hidden = !judgements.some(function (j) { return !("error" in j); });
    box.querySelector("[data-score-reason-list]").replaceChildren(...judgements.map(function (j) {
      return "error" in j
        ? el("li", { className: "is-error", text: "Error: " + j.error })
        : el("li", {}, [el("strong", { text: Number(j.score).toFixed(2) }), document.createTextNode(" " + (j.reason || ""))]);
    }));
    updateScoreButton();
  }

  function showScore(column, key, score) {
    if (column._scoreKey !== key) return;
    if (!score) { renderScore(column, { state: "unscored" }); return; }
    renderScore(column, { state: score.status, score: score });
    if (score.status === "pending") setTimeout(function () { pollScore(column, key); }, SCORE_POLL_MS);
  }

  async function loadScore(column, key) {
    const [runId, metricId] = key.split(":");
    try {
      const response = await window.App.fetchJSON(scoresUrl(metricId) + "?run=" + encodeURIComponent(runId));
      if (column._scoreKey !== key) return;
      if (!response.ok || !response.data) {
        renderScore(column, { state: "error", message: "could not read the score (HTTP " + response.status + ")." });
        return;
      }
      showScore(column, key, response.data.scores[0]);
    } catch (error) {
      if (column._scoreKey === key) renderScore(column, { state: "error", message: "could not reach the server: " + error.message });
    }
  }

  async function pollScore(column, key) {
    if (column._scoreKey !== key || !column.isConnected) return;
    const [runId, metricId] = key.split(":");
    try {
      const response = await window.App.fetchJSON(scoresUrl(metricId) + "?run=" + encodeURIComponent(runId));
      if (response.ok && response.data) { showScore(column, key, response.data.scores[0]); return; }
    } catch (e) { /* try again */ }
    setTimeout(function () { pollScore(column, key); }, SCORE_POLL_MS);
  }

  // One request for the given columns (each with a succeeded run and a _scoreKey for the selected metric).
  async function requestScores(columns) {
    const metricId = metricSelect.value;
    const keys = columns.map(function (c) { return c._scoreKey; });
    const current = function (c, i) { return c._scoreKey === keys[i]; };
    columns.forEach(function (c) { renderScore(c, { state: "requesting" }); });
    let response;
    try {
      response = await window.App.fetchJSON(scoresUrl(metricId), {
        method: "POST",
        body: { runs: columns.map(function (c) { return c._run.id; }) },
      });
    } catch (error) {
      columns.forEach(function (c, i) {
        if (current(c, i)) renderScore(c, { state: "error", message: "could not reach the server: " + error.message });
      });
      return;
    }
    if (!response.ok || !response.data || !response.data.scores) {
      const detail = response.data && response.data.detail;
      const errors = Array.isArray(detail) ? detail : [];
      columns.forEach(function (c, i) {
        if (!current(c, i)) return;
        // Problems at ["body", "runs", i] belong to that column; the others (["body", "metric"], ...) to every column.
        const mine = errors.filter(function (e) {
          const loc = (e.loc || []).slice(1);
          return !(loc[0] === "runs" && typeof loc[1] === "number" && loc[1] !== i);
        });
        const message = mine.length ? mine.map(function (e) { return e.msg; }).join(" ")
          : "could not start the judges (HTTP " + response.status + ").";
        renderScore(c, { state: "error", message: message });
      });
      return;
    }
    const byRun = {};
    response.data.scores.forEach(function (score) { byRun[score.run] = score; });
    columns.forEach(function (c, i) {
      if (current(c, i)) showScore(c, keys[i], byRun[c._run.id] || { status: "pending", judgements: [] });
    });
  }

  function updateMetricInfo() {
    const metric = metrics[metricSelect.value];
    metricInfo.hidden = !metric;
    if (metric && metric.kind === "code") {
      metricInfo.textContent = "Code check: " + metric.check + " (no judge model; scored at once).";
      return;
    }
    metricInfo.textContent = metric ? "Judged by " + metric.judge_model + ", " + judgeCount(metric.judges)
      + (metric.judges > 1 ? ", averaged." : ".") : "";
  }

  metricSelect.addEventListener("change", function () {
    updateMetricInfo();
    allColumns().forEach(syncScore);
    updateScoreButton();
  });
  scoreButton.addEventListener("click", function () {
    const columns = allColumns().filter(function (c) { return c._scoreState === "unscored"; });
    if (columns.length) requestScores(columns);
  });

  // ---- Start ------------------------------------------------------------------------------
  addMessage("system", "");
  addMessage("user", "");
  updateVariables();
  addColumn(data.default_alias);
  if (data.draft) window.Playground.restore(data.draft);
  (data.history || []).forEach(function (runData) { addHistory(runData, false); });
  if (data.open_run) openRun(data.open_run);
})();
