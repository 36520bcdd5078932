// New evaluation: the chosen dataset's columns (the variables a prompt can use), the chosen saved prompt version's
// messages (which replace the written prompt), and per chosen model its typed parameter fields (a number's slider
// kept in step with its field by the Playground's own linkSlider).
import { linkSlider } from "../js/playground/parameters.js";

(function () {

  function showColumns() {
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
  }

  // A saved version's messages are the evaluation's: shown read-only, and the written prompt set aside (disabled
  // fields are not sent, so the server never sees both).
  function showPromptVersion() {
    var select = document.getElementById("id_prompt_version");
    var preview = document.getElementById("prompt-version-messages");
    var dataEl = document.getElementById("prompt-version-data");
    if (!select || !preview || !dataEl) return;
    var versions = JSON.parse(dataEl.textContent);
    var written = ["id_system", "id_prompt"].map(function (id) { return document.getElementById(id); }).filter(Boolean);
    function update() {
      var version = versions[select.value];
      preview.replaceChildren();
      preview.hidden = !version;
      written.forEach(function (field) {
        field.disabled = Boolean(version);
        field.closest(".field").hidden = Boolean(version);
      });
      if (!version) return;
      var heading = document.createElement("p");
      heading.className = "label";
      heading.textContent = "Messages of " + select.options[select.selectedIndex].text;
      preview.appendChild(heading);
      var list = document.createElement("ol");
      list.className = "prompt-version-list";
      version.messages.forEach(function (message) {
        var item = document.createElement("li");
        var role = document.createElement("strong");
        role.textContent = message.role + ": ";
        var content = document.createElement("span");
        content.className = "prompt-text";
        content.textContent = typeof message.content === "string" ? message.content : JSON.stringify(message.content);
        item.append(role, content);
        list.appendChild(item);
      });
      preview.appendChild(list);
      var keys = Object.keys(version.parameters || {});
      if (keys.length) {
        var note = document.createElement("p");
        note.className = "help";
        note.textContent = "Its parameters (" + keys.map(function (k) { return k + " " + JSON.stringify(version.parameters[k]); }).join(", ") +
          ") apply to every model; a model's own fields below override them.";
        preview.appendChild(note);
      }
    }
    select.addEventListener("change", update);
    update();
  }

  // Each model's parameter fields show while it is chosen (and always when one of them has a problem to fix).
  function showParameters() {
    document.querySelectorAll("[data-params-for]").forEach(function (fieldset) {
      var checkbox = document.getElementById(fieldset.getAttribute("data-params-for"));
      if (!checkbox) return;
      var hasErrors = Boolean(fieldset.querySelector(".field-errors"));
      function update() { fieldset.hidden = !checkbox.checked && !hasErrors; }
      checkbox.addEventListener("change", update);
      update();
    });
    document.querySelectorAll("[data-slider-for]").forEach(function (slider) {
      var input = document.getElementById(slider.getAttribute("data-slider-for"));
      if (!input) return;
      if (input.value !== "") slider.value = input.value;
      else slider.value = Number(slider.min) < 0 ? 0 : Number(slider.max) / 2;
      linkSlider(slider, input);
    });
  }

  showColumns();
  showPromptVersion();
  showParameters();
})();
