// Runs as the Playground reads them (runners.presenters.run_representation, the API's fields): fetching one,
// polling it until it is done, and what the page derives from it.
import { fetchJSON } from "../http.js";

export const POLL_MS = 300;
const TERMINAL = new Set(["succeeded", "failed"]);

/** Whether a run has finished (it will not change any more). */
export function runDone(run) {
  return Boolean(run) && TERMINAL.has(run.status);
}

/** The last user message of `messages`, its whitespace collapsed and cut to `length` characters with "…". */
export function messagePreview(messages, length = 90) {
  const list = Array.isArray(messages) ? messages : [];
  for (let i = list.length - 1; i >= 0; i--) {
    const message = list[i];
    if (message && message.role === "user" && typeof message.content === "string") {
      const text = message.content.split(/\s+/).filter(Boolean).join(" ");
      return text.length <= length ? text : text.slice(0, length - 1) + "…";
    }
  }
  return "";
}

/** The run at `url`, or null when it cannot be read (HTTP error or network failure). */
export async function fetchRun(url) {
  try {
    const response = await fetchJSON(url);
    return response.ok && response.data ? response.data : null;
  } catch {
    return null;
  }
}

/**
 * Asks to stop the run (POST `url`, the run's cancel view): a queued run fails as cancelled at once, a running one
 * within a moment (poll it to see it end).
 * @returns {Promise<{run: object|null, error: string|null}>} the run as it is now, or why it could not be stopped.
 */
export async function stopRun(url, { post = fetchJSON } = {}) {
  try {
    const response = await post(url, { method: "POST" });
    if (response.ok && response.data) return { run: response.data, error: null };
    const detail = response.data && Array.isArray(response.data.detail) ? response.data.detail[0] : null;
    return { run: null, error: detail && detail.msg ? detail.msg : `Could not stop the run (HTTP ${response.status}).` };
  } catch (error) {
    return { run: null, error: `Could not reach the server: ${error.message}` };
  }
}

/**
 * Reads the run at `url` every `interval` ms and hands each read to `onUpdate(run)` until the run is done or
 * `isCurrent()` turns false (the column now shows another run, or left the page). A failed read is retried.
 * @returns {Promise<object|null>} the finished run, or null when abandoned.
 */
export async function pollRun(url, { onUpdate, isCurrent = () => true, interval = POLL_MS, wait = sleep }) {
  while (isCurrent()) {
    const run = await fetchRun(url);
    if (run && isCurrent()) {
      onUpdate(run);
      if (runDone(run)) return run;
    }
    await wait(interval);
  }
  return null;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
