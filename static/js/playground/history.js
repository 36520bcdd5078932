// The History list: the user's recent runs, newest first; a comparison's runs share their job and are one entry
// listing its models in column order. Opening an entry is the caller's (`onOpen(runId)`, given to initHistory).
import { el } from "./dom.js";
import { STATUS_TEXT } from "./result.js";
import { messagePreview } from "./runs.js";

const historyEl = () => document.getElementById("history");
let open = () => {};

function historyItem(run) {
  const status = el("span", { className: "status status-" + run.status, text: STATUS_TEXT[run.status] || run.status });
  const version = run.prompt_version_summary;
  const link = el("a", { href: "?run=" + run.id, "data-run-id": run.id, "data-job": run.job }, [
    el("span", { className: "h-top" }, [el("span", { "data-models": true, text: run.model }), status]),
    el("span", { className: "h-text", text: messagePreview(run.messages) || "(no user message)" }),
    version ? el("span", { className: "h-text", text: version.name + " v" + version.number }) : null,
    el("span", { className: "h-text", text: new Date(run.created_at).toLocaleString() }),
  ]);
  link.addEventListener("click", (event) => { event.preventDefault(); open(run.id); });
  return el("li", {}, [link]);
}

/** Lists a run: first (`prepend`, just started) or last (the page's history, newest first); into its job's entry. */
export function addHistory(run, prepend) {
  document.getElementById("history-empty").hidden = true;
  const same = run.job && historyEl().querySelector('[data-job="' + CSS.escape(run.job) + '"]');
  if (same) {
    // Either way the runs come last column first (newest first, or reversed when just started).
    const names = same.querySelector("[data-models]");
    names.textContent = run.model + " · " + names.textContent;
    same.setAttribute("data-run-id", run.id);
    return;
  }
  const item = historyItem(run);
  if (prepend) historyEl().prepend(item); else historyEl().appendChild(item);
}

/** Updates the status of a run's entry, if it is listed under that run. */
export function updateHistory(run) {
  const link = historyEl().querySelector('[data-run-id="' + CSS.escape(run.id) + '"]');
  if (!link) return;
  const status = link.querySelector(".status");
  status.textContent = STATUS_TEXT[run.status] || run.status;
  status.className = "status status-" + run.status;
}

/** Marks the entry of the run (or of its job) as the one open. */
export function markOpen(run) {
  historyEl().querySelectorAll("[data-run-id]").forEach((link) => {
    if (link.getAttribute("data-run-id") === run.id || (run.job && link.getAttribute("data-job") === run.job)) {
      link.setAttribute("aria-current", "true");
    } else link.removeAttribute("aria-current");
  });
}

/** Lists the page's history (`runs`, newest first); a click on an entry calls `onOpen(runId)`. */
export function initHistory(runs, onOpen) {
  open = onOpen;
  (runs || []).forEach((run) => addHistory(run, false));
}
