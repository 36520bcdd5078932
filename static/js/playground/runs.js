// Runs as the Playground reads them (runners.presenters.run_representation, the API's fields): fetching one,
// following it until it is done, stopping it, and what the page derives from it.
import { fetchJSON } from "../http.js";

// The Playground's live read of a running run; the worker publishes every 50 ms (runners.delivery), so a chunk is
// on the page about 100 ms after the provider wrote it (bench/live_tokens.py measures it).
export const LIVE_MS = 100;
const TERMINAL = new Set(["succeeded", "failed"]);

/** Whether a run has finished (it will not change any more). */
export function runDone(run) {
  return Boolean(run) && TERMINAL.has(run.status);
}

/**
 * A streamed answer's writing window (latency - time to first token) shorter than this many milliseconds, or than
 * MIN_WRITING_SHARE of the latency, is too short to measure a speed over: the answer came in one burst (a buffering
 * proxy, a gateway that streams a finished answer) and dividing by it would claim millions of tokens per second.
 */
export const MIN_WRITING_MS = 50;
export const MIN_WRITING_SHARE = 0.05;

/**
 * Output tokens per second of a finished run, or null without its completion tokens and latency. A streamed run
 * with a time to first token: completion tokens / (latency - time to first token), the speed of writing once the
 * answer began, or null when that window is under MIN_WRITING_MS or MIN_WRITING_SHARE of the latency (the answer came
 * in one burst: no speed to show); otherwise completion tokens / latency, the wait included.
 */
export function tokensPerSecond(run) {
  const tokens = run && run.usage ? run.usage.completion_tokens : null;
  if (!runDone(run) || !tokens || !run.latency_ms) return null;
  const first = run.time_to_first_token_ms;
  if (typeof first !== "number") return run.latency_ms > 0 ? tokens / (run.latency_ms / 1000) : null;
  const writing = run.latency_ms - first;
  if (writing < MIN_WRITING_MS || writing < MIN_WRITING_SHARE * run.latency_ms) return null;
  return tokens / (writing / 1000);
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
 * Follows a run until it is done: its full read (`url`) first, then its cheap live read (`liveUrl`:
 * `{status, output}`) every `interval` ms. A changed partial output goes to `onLive(output)`; a changed status
 * brings a full read, handed to `onUpdate(run)`, and so does the end. Stops when `isCurrent()` turns false.
 * @returns {Promise<object|null>} the finished run, or null when abandoned.
 */
export async function followRun(url, liveUrl, { onUpdate, onLive, isCurrent = () => true, interval = LIVE_MS, wait = sleep }) {
  let status = null;
  let output = null;
  while (isCurrent()) {
    const live = status === null ? null : await fetchRun(liveUrl);
    if (status === null || (live && live.status !== status)) {
      const run = await fetchRun(url);
      if (run && isCurrent()) {
        onUpdate(run);
        status = run.status;
        output = run.output ?? null;
        if (runDone(run)) return run;
      }
    } else if (live && typeof live.output === "string" && live.output !== output && isCurrent()) {
      output = live.output;
      onLive(output);
    }
    await wait(interval);
  }
  return null;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
