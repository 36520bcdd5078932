// Page-wide htmx behaviour for server-rendered fragments that refresh themselves (hx-trigger="every 1s").
// A fragment marked data-keep-open="ATTR" keeps its open <details> open across a swap: each is found again
// in the new fragment by the ATTR value of its closest ancestor carrying ATTR (e.g. data-model="alias").

function openKeys(root, attr) {
  return Array.from(root.querySelectorAll("details[open]"))
    .map((details) => details.closest(`[${attr}]`)?.getAttribute(attr))
    .filter((key) => key !== undefined && key !== null);
}

function reopen(root, attr, keys) {
  root.querySelectorAll(`[${attr}]`).forEach((item) => {
    if (!keys.includes(item.getAttribute(attr))) return;
    const details = item.querySelector("details");
    if (details) details.open = true;
  });
}

let pending = null;

document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const attr = target?.getAttribute?.("data-keep-open");
  pending = attr ? { id: target.id, attr, keys: openKeys(target, attr) } : null;
});

document.addEventListener("htmx:afterSettle", () => {
  if (!pending) return;
  const fresh = pending.id && document.getElementById(pending.id);
  if (fresh) reopen(fresh, pending.attr, pending.keys);
  pending = null;
});
