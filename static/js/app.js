// Shared, progressive helpers: CSRF for fetch, and live fragments that refresh until done.
(function () {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function fetchJSON(url, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    init.headers = Object.assign({ Accept: "application/json" }, init.headers);
    if (init.body !== undefined && typeof init.body !== "string") {
      init.body = JSON.stringify(init.body);
      init.headers["Content-Type"] = "application/json";
    }
    if (init.method && init.method !== "GET") init.headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, init);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data: data };
  }

  // <div data-live-fragment="url"> holding an element with data-done="false" is refreshed
  // from url every 400 ms until the fragment says it is done.
  function liveFragments() {
    document.querySelectorAll("[data-live-fragment]").forEach(function (holder) {
      const url = holder.getAttribute("data-live-fragment");
      async function tick() {
        const done = holder.querySelector("[data-done]");
        if (!done || done.getAttribute("data-done") === "true") return;
        try {
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.ok) {
            const html = await response.text();
            const openDetails = Array.from(holder.querySelectorAll("details[open]")).map(function (d) {
              return d.closest("[data-model]") && d.closest("[data-model]").getAttribute("data-model");
            });
            holder.innerHTML = html;
            holder.querySelectorAll("[data-model]").forEach(function (item) {
              if (openDetails.indexOf(item.getAttribute("data-model")) >= 0) {
                const details = item.querySelector("details");
                if (details) details.open = true;
              }
            });
          }
        } catch (e) { /* keep the last fragment and try again */ }
        setTimeout(tick, 400);
      }
      setTimeout(tick, 400);
    });
  }

  window.App = { csrfToken: csrfToken, fetchJSON: fetchJSON };
  document.addEventListener("DOMContentLoaded", liveFragments);
})();
