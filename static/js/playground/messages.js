// The messages on the left and their {{variables}}: message editors (a tool result's editor names the call it
// answers), the conversation continued with an answer, and the values typed for the variables.
import { answerTurns, toolNameFor, wireMessage } from "./conversation.js";
import { el } from "./dom.js";
import { formatArguments } from "./result.js";
import { messageState, nextId, state } from "./state.js";

// The same rule as prompts/templating.py VARIABLE_RE: a name or a dotted path ({{q.text}}).
const VARIABLE_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
const ROLES = [["system", "System"], ["user", "User"], ["assistant", "Assistant"]];
const messagesEl = () => document.getElementById("messages");

/** The variables used in `texts`, in order of first use, after `known` (names already listed, kept first). */
export function variablesIn(texts, known = []) {
  const names = [...known];
  texts.forEach((text) => {
    for (const match of text.matchAll(VARIABLE_RE)) if (!names.includes(match[1])) names.push(match[1]);
  });
  return names;
}

/** A message editor's placeholder for its role (`callsTools`: an assistant turn that only called tools). */
export function messagePlaceholder(role, callsTools) {
  if (role === "system") return "You are a helpful assistant.";
  if (role === "tool") return "What the tool returned, e.g. {\"temperature\": 21}";
  if (callsTools) return "No text: the model only called tools.";
  return "Write a message. Use {{name}} for a variable.";
}

function roleName(role) { return (ROLES.find((r) => r[0] === role) || [role, role])[1]; }

/** An assistant turn's tool calls in the messages: name and arguments, as the answer showed them. */
function toolCallList(calls) {
  return el("div", { className: "tool-calls" }, calls.map((call) => {
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

/**
 * Adds a message editor. `extra.tool_calls` (an assistant turn's calls) are shown under its text, read-only;
 * `extra.tool_call_id` makes it the result of that call (a `tool` message), its role fixed. Both are kept in
 * state.messages under the textarea's id. Returns the message's list item.
 */
export function addMessage(role, content, focus, extra) {
  const id = nextId("message");
  const toolCalls = extra && Array.isArray(extra.tool_calls) && extra.tool_calls.length ? extra.tool_calls : null;
  const isTool = role === "tool";
  const toolCallId = isTool ? (extra && extra.tool_call_id) || "" : null;
  const toolName = isTool ? toolNameFor(collectMessages(), toolCallId) : "";
  const head = isTool
    ? el("span", { className: "message-tool" }, [el("span", { className: "label", text: "Tool result" }),
      el("code", { text: toolName || "?" }), el("span", { className: "muted small", text: toolCallId })])
    : el("select", { "aria-label": "Role", "data-role-select": true },
      ROLES.map((r) => el("option", { value: r[0], text: r[1], selected: r[0] === role })));
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
  if (toolCalls || isTool) state.messages.set(id, { toolCalls, toolCallId });
  if (!isTool) {
    head.addEventListener("change", () => {
      item.setAttribute("data-role", head.value);
      textarea.setAttribute("aria-label", roleName(head.value) + " message");
    });
  }
  remove.addEventListener("click", () => {
    state.messages.delete(id);
    item.remove();
    updateRemoveButtons();
    updateVariables();
  });
  textarea.addEventListener("input", updateVariables);
  messagesEl().appendChild(item);
  updateRemoveButtons();
  if (focus) textarea.focus();
  return item;
}

function updateRemoveButtons() {
  const items = messageItems();
  items.forEach((item) => { item.querySelector("[data-remove-message]").hidden = items.length <= 1; });
}

/** The message editors' list items, in order. */
export function messageItems() { return Array.from(messagesEl().querySelectorAll(".message")); }

/** The items that go out: an empty system message is not sent (a 422's messages[i] counts these). */
export function sentMessageItems() {
  return messageItems().filter((item) => item.getAttribute("data-role") !== "system" || item.querySelector("textarea").value.trim());
}

/** The messages as they go out (conversation.wireMessage), an empty system message left out. */
export function collectMessages() {
  return sentMessageItems().map((item) => {
    const textarea = item.querySelector("textarea");
    const extra = messageState(textarea.id);
    return wireMessage({ role: item.getAttribute("data-role"), content: textarea.value, toolCalls: extra.toolCalls, toolCallId: extra.toolCallId });
  });
}

/** Replaces the messages (a system message first, even empty); updates the variables. */
export function setMessages(messages) {
  messagesEl().replaceChildren();
  state.messages.clear();
  if (!messages.some((m) => m.role === "system")) addMessage("system", "");
  messages.forEach((m) => {
    const content = m.content === null || m.content === undefined ? "" : m.content;
    addMessage(m.role, typeof content === "string" ? content : JSON.stringify(content), false, m);
  });
  updateVariables();
}

/** Adds an empty message after the last, focused: an assistant's after a user's, else a user's. */
export function addNextMessage() {
  const items = messageItems();
  const last = items.length ? items[items.length - 1].getAttribute("data-role") : "system";
  addMessage(last === "user" ? "assistant" : "user", "", true);
}

/** Continue the conversation with a run's answer: its turns added to the messages, then the next to write. */
export function continueWith(run) {
  const turns = answerTurns(run);
  if (!turns.length) return;
  turns.forEach((turn) => addMessage(turn.role, turn.content, false, turn));
  const firstTool = messageItems().find((item) => item.getAttribute("data-role") === "tool" && !item.querySelector("textarea").value);
  if (firstTool) firstTool.querySelector("textarea").focus();
  else addMessage("user", "", true);
  updateVariables();
}

// ---- Variables ------------------------------------------------------------------------------

function variableNames() {
  const fromVersions = [];
  document.querySelectorAll("[data-column-prompt]").forEach((select) => {
    const version = state.versionsById[select.value];
    if (version) version.variables.forEach((name) => { if (!fromVersions.includes(name)) fromVersions.push(name); });
  });
  return variablesIn(messageItems().map((item) => item.querySelector("textarea").value), fromVersions);
}

/** One field per variable the messages (and the columns' prompt versions) use, in order; the others removed. */
export function updateVariables() {
  const holder = document.getElementById("variable-fields");
  const names = variableNames();
  const existing = {};
  holder.querySelectorAll("[data-variable]").forEach((field) => { existing[field.getAttribute("data-variable")] = field; });
  names.forEach((name) => {
    if (existing[name]) { holder.appendChild(existing[name]); return; }
    const id = "variable-" + name;
    holder.appendChild(el("div", { className: "field", "data-variable": name }, [
      el("label", { for: id }, [el("code", { text: "{{" + name + "}}" })]),
      el("input", { type: "text", id: id, autocomplete: "off" }),
      el("p", { className: "field-errors", "data-error": "variable" }),
    ]));
  });
  Object.keys(existing).forEach((name) => { if (!names.includes(name)) existing[name].remove(); });
  document.getElementById("variables").hidden = names.length === 0;
}

/** The values typed for the variables: {name: text}. */
export function collectVariables() {
  const values = {};
  document.querySelectorAll("[data-variable]").forEach((field) => { values[field.getAttribute("data-variable")] = field.querySelector("input").value; });
  return values;
}

/** Fills the variables' fields that `values` names (strings only). */
export function setVariableValues(values) {
  document.querySelectorAll("[data-variable]").forEach((field) => {
    const name = field.getAttribute("data-variable");
    if (typeof values[name] === "string") field.querySelector("input").value = values[name];
  });
}
