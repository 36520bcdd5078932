// Conversations in the Playground: an answer added to the messages as an assistant turn, its tool calls answered by
// `tool` messages, and the messages as they go out (OpenAI's Chat Completions shapes, checked on the server by
// runners/conversation.py).

/**
 * The turns that continue a conversation with a finished run's answer: the assistant message (its text, and its
 * tool calls when it made some), then one `tool` message per call, its result still to write.
 * @returns {Array<object>} messages in the wire shape, [] when the run has no answer to add.
 */
export function answerTurns(run) {
  if (!run) return [];
  const calls = Array.isArray(run.tool_calls) ? run.tool_calls : [];
  const text = typeof run.output === "string" ? run.output : "";
  if (!text && !calls.length) return [];
  const assistant = { role: "assistant", content: text || (calls.length ? null : "") };
  if (calls.length) assistant.tool_calls = calls.map(toolCall);
  return [assistant, ...calls.map((call) => ({ role: "tool", tool_call_id: call.id, content: "" }))];
}

/** A tool call reduced to what a request carries: {id, type: "function", function: {name, arguments}}. */
function toolCall(call) {
  const fn = call.function || {};
  return { id: call.id, type: "function", function: { name: fn.name || "", arguments: fn.arguments || "" } };
}

/**
 * A message as it goes out, from what its editor holds: `toolCalls` only on an assistant message (whose empty text
 * is then sent as null), `toolCallId` only on a tool message.
 */
export function wireMessage({ role, content, toolCalls = null, toolCallId = null }) {
  if (role === "assistant" && toolCalls && toolCalls.length) {
    return { role, content: content === "" ? null : content, tool_calls: toolCalls };
  }
  if (role === "tool") return { role, tool_call_id: toolCallId || "", content };
  return { role, content };
}

/** The name of the call a tool message answers, looked up in the messages before it ("" when none names it). */
export function toolNameFor(messages, toolCallId) {
  for (const message of messages) {
    for (const call of (message && message.tool_calls) || []) {
      if (call.id === toolCallId) return (call.function && call.function.name) || "";
    }
  }
  return "";
}
