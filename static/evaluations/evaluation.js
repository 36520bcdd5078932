// Live progress of an evaluation: poll the JSON progress endpoint, update the bar and counts,
// and reload the page once the evaluation stops running so the results table is complete.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section || section.dataset.status !== "running") return;
  var url = section.dataset.progressUrl;
  var bar = document.getElementById("progress-bar");
  var interval = 1000;

  function seconds(value) {
    if (value === null || value === undefined) return "–";
    value = Math.round(value);
    if (value < 60) return value + " s";
    var minutes = Math.floor(value / 60);
    return minutes < 60 ? minutes + " min " + (value % 60) + " s" : Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function set(field, text) {
    var nodes = section.querySelectorAll('[data-field="' + field + '"]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = text;
  }

  function show(p) {
    bar.max = p.total || 1;
    bar.value = p.done + p.failed;
    ["done", "failed", "cancelled", "running", "queued", "total"].forEach(function (key) { set(key, p[key]); });
    set("rate", p.rate_per_second === null ? "–" : p.rate_per_second.toFixed(1));
    set("left", seconds(p.seconds_left));
    set("judges_done", p.judges.done);
    set("judges_failed", p.judges.failed);
    set("judges_total", p.judges.total);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (p) {
        show(p);
        if (p.status !== "running") {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, interval);
      })
      .catch(function () { window.setTimeout(poll, interval * 3); });
  }

  window.setTimeout(poll, interval);
})();
