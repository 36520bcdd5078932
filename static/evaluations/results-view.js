// Pure helpers for the results page's run dialog (static/evaluations/results.js): what each part of a run reads as.
// No DOM here, so that node --test static/js/tests/ checks them.

const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

/** The output endpoint for a run, from the URL the page renders with a placeholder id. */
export function outputUrl(template, runId) {
  return template.replace(PLACEHOLDER_ID, encodeURIComponent(runId));
}

/** Milliseconds as people read them: "850 ms", "2.4 s", "–" for none. */
export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return "–";
  const value = Number(ms);
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

/** A run's token usage: "42 (30 in, 12 out)", or "–". */
export function usageText(usage) {
  if (!usage || typeof usage !== "object") return "–";
  const total = usage.total_tokens;
  if (typeof total !== "number") return "–";
  const parts = [];
  if (typeof usage.prompt_tokens === "number") parts.push(`${usage.prompt_tokens} in`);
  if (typeof usage.completion_tokens === "number") parts.push(`${usage.completion_tokens} out`);
  return parts.length ? `${total} (${parts.join(", ")})` : String(total);
}

/** A score as the table shows it: two decimals, "–" for none. */
export function scoreText(score) {
  return typeof score === "number" ? score.toFixed(2) : "–";
}

/** One judge's verdict in a sentence: "0.80: reason", or what went wrong. */
export function judgementText(judgement) {
  if (!judgement || typeof judgement !== "object") return "No verdict recorded yet.";
  if (judgement.error) return `No score (${outcomeText(judgement.outcome)}): ${judgement.error}`;
  const reason = judgement.reason ? `: ${judgement.reason}` : "";
  return `${scoreText(judgement.score)}${reason}`;
}

const OUTCOMES = {
  scored: "scored",
  unusable: "answer was no verdict",
  run_failed: "judge run failed",
  cancelled: "cancelled",
};

/** A JudgeOutcome value in words. */
export function outcomeText(outcome) {
  return OUTCOMES[outcome] || outcome || "waiting";
}

/** A run's error as one line ("provider_error: HTTP 500"), or "" when it has none. */
export function errorText(error) {
  if (!error || typeof error !== "object") return "";
  const kind = error.type || "error";
  return error.message ? `${kind}: ${error.message}` : kind;
}

/** Messages as sent, one block per message: "user:\n<content>" (non-text content as JSON). */
export function messagesText(messages) {
  if (!Array.isArray(messages)) return "";
  return messages
    .map((message) => {
      const content = typeof message.content === "string" ? message.content : JSON.stringify(message.content, null, 2);
      return `${message.role}:\n${content ?? ""}`;
    })
    .join("\n\n");
}

/** The dialog's title: "Row 3 · model-a", with the attempt when the output was re-run. */
export function dialogTitle(detail) {
  const attempt = detail.attempt > 1 ? ` · attempt ${detail.attempt}` : "";
  return `Row ${detail.row.index} · ${detail.model}${attempt}`;
}
