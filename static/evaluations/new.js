// New evaluation: show the chosen dataset's columns (the variables a prompt can use).
(function () {
  "use strict";
  var select = document.getElementById("id_dataset");
  var help = document.getElementById("dataset-columns");
  if (!select || !help) return;
  function update() {
    var option = select.options[select.selectedIndex];
    var columns = option && option.dataset.columns;
    help.textContent = columns ? "Variables: " + columns.split(", ").map(function (c) { return "{{" + c + "}}"; }).join(", ") : "";
  }
  select.addEventListener("change", update);
  update();
})();
