// The Playground's saved prompts and draft: open a saved prompt at a version, save the messages as a new prompt
// or a new version, show which version the columns run, and keep the page's state as a server-side draft
// (PUT /playground/draft, debounced) so that a reload or another browser gets it back.
// Loaded after playground.js, whose window.Playground gives the page's state (snapshot, restore, applyVersion).
(function () {
  "use strict";
  const playground = window.Playground;
  const card = document.getElementById("saved-prompt");
  if (!playground || !card) return;
  const data = JSON.parse(document.getElementById("playground-data").textContent);
  const form = document.getElementById("playground");
  const promptsUrl = card.getAttribute("data-prompts-url");
  const draftUrl = card.getAttribute("data-draft-url");
  const promptSelect = document.getElementById("prompt-select");
  const versionSelect = document.getElementById("prompt-version");
  const openButton = document.getElementById("prompt-open");
  const nameInput = document.getElementById("prompt-name");
  const saveNewButton = document.getElementById("prompt-save-new");
  const saveVersionButton = document.getElementById("prompt-save-version");
  const statusEl = document.getElementById("prompt-status");
  const errorsEl = document.getElementById("prompt-errors");
  const draftStatus = document.getElementById("draft-status");
  const DRAFT_DELAY_MS = 500;

  // The saved prompt version the page was opened at (or last saved as): {prompt: {id, name}, version}.
  let current = null;
  let versions = [];  // of the prompt chosen in the select, oldest first
  let lastModel = null;

  function sameMessages(a, b) {
    const norm = function (messages) {
      return JSON.stringify((messages || [])
        .filter(function (m) { return m.role !== "system" || String(m.content).trim(); })
        .map(function (m) { return [m.role, m.content]; }));
    };
    return norm(a) === norm(b);
  }

  function edited() { return Boolean(current) && !sameMessages(playground.snapshot().messages, current.version.messages); }

  function versionName(version) {
    return "v" + version.number + (version.labels && version.labels.length ? " (" + version.labels.join(", ") + ")" : "");
  }

  // ---- Which version the columns run -------------------------------------------------------
  function updateStatus() {
    let text = "";
    if (current) {
      text = current.prompt.name + " · v" + current.version.number;
      if (edited()) text += " · edited: runs will not be recorded as this version until saved";
    }
    statusEl.textContent = current ? "Open: " + text : "No saved prompt open.";
    document.querySelectorAll("[data-prompt-badge]").forEach(function (badge) {
      badge.hidden = !current;
      badge.textContent = current ? (edited() ? "Edited from " : "Runs ") + current.prompt.name + " v" + current.version.number : "";
    });
    saveVersionButton.disabled = !current && !promptSelect.value;
  }

  // What a run records: the version, only while the messages are exactly that version's.
  function runFields() {
    return current && !edited() ? { prompt_version: current.version.id } : {};
  }

  // ---- Choosing and opening -------------------------------------------------------------------
  async function loadVersions(promptId, selectNumber) {
    versions = [];
    versionSelect.replaceChildren();
    versionSelect.disabled = true;
    if (!promptId) { updateStatus(); return; }
    const response = await window.App.fetchJSON(promptsUrl + "/" + encodeURIComponent(promptId));
    if (!response.ok || !response.data) { errorsEl.textContent = "Could not read the prompt (HTTP " + response.status + ")."; return; }
    versions = response.data.versions;
    versions.slice().reverse().forEach(function (version) {
      const option = document.createElement("option");
      option.value = String(version.number);
      option.textContent = versionName(version);
      versionSelect.appendChild(option);
    });
    versionSelect.disabled = false;
    versionSelect.value = String(selectNumber || versions[versions.length - 1].number);
    updateStatus();
    return response.data;
  }

  function addPromptOption(prompt) {
    let option = promptSelect.querySelector('option[value="' + CSS.escape(prompt.id) + '"]');
    if (!option) {
      option = document.createElement("option");
      option.value = prompt.id;
      option.textContent = prompt.name;
      promptSelect.appendChild(option);
    }
    promptSelect.value = prompt.id;
  }

  function openVersion(prompt, version) {
    current = { prompt: { id: prompt.id, name: prompt.name }, version: version };
    playground.applyVersion(version);
    updateStatus();
    scheduleDraft();
  }

  promptSelect.addEventListener("change", function () {
    errorsEl.textContent = "";
    loadVersions(promptSelect.value);
  });
  openButton.addEventListener("click", function () {
    errorsEl.textContent = "";
    const version = versions.find(function (v) { return String(v.number) === versionSelect.value; });
    if (!version) { errorsEl.textContent = "Pick a saved prompt and a version first."; return; }
    openVersion({ id: promptSelect.value, name: promptSelect.selectedOptions[0].textContent }, version);
  });

  // ---- Saving ----------------------------------------------------------------------------------
  function versionBody() {
    const state = playground.versionContent();
    if (!state) return null;  // a parameter field shows its problem
    return state;
  }

  function showProblems(response) {
    const problems = (response.data && Array.isArray(response.data.detail)) ? response.data.detail : null;
    errorsEl.textContent = problems
      ? problems.map(function (p) { return p.loc.slice(1).join(".") + ": " + p.msg; }).join(" ")
      : "Could not save (HTTP " + response.status + ")" + (response.data && response.data.detail ? ": " + response.data.detail : ".");
  }

  async function save(url, body, busy) {
    errorsEl.textContent = "";
    busy.disabled = true;
    try {
      const response = await window.App.fetchJSON(url, { method: "POST", body: body });
      if (response.status !== 201) { showProblems(response); return null; }
      return response.data;
    } catch (error) {
      errorsEl.textContent = "Could not reach the server: " + error.message;
      return null;
    } finally {
      busy.disabled = false;
    }
  }

  saveNewButton.addEventListener("click", async function () {
    const body = versionBody();
    if (!body) return;
    const name = nameInput.value.trim();
    if (!name) { errorsEl.textContent = "Give the new prompt a name."; nameInput.focus(); return; }
    const prompt = await save(promptsUrl, Object.assign({ name: name }, body), saveNewButton);
    if (!prompt) return;
    nameInput.value = "";
    addPromptOption(prompt);
    await loadVersions(prompt.id, 1);
    current = { prompt: { id: prompt.id, name: prompt.name }, version: prompt.versions[0] };
    updateStatus();
    scheduleDraft();
  });

  saveVersionButton.addEventListener("click", async function () {
    const body = versionBody();
    if (!body) return;
    const promptId = current ? current.prompt.id : promptSelect.value;
    if (!promptId) { errorsEl.textContent = "Open a saved prompt first."; return; }
    const version = await save(promptsUrl + "/" + encodeURIComponent(promptId) + "/versions", body, saveVersionButton);
    if (!version) return;
    const name = current ? current.prompt.name : promptSelect.selectedOptions[0].textContent;
    addPromptOption({ id: promptId, name: name });
    await loadVersions(promptId, version.number);
    current = { prompt: { id: promptId, name: name }, version: version };
    updateStatus();
    scheduleDraft();
  });

  // ---- The draft -------------------------------------------------------------------------------
  let draftTimer = null;
  let draftDirty = false;

  function draftBody() {
    const state = playground.snapshot();
    const first = state.columns[0];
    return Object.assign(state, {
      prompt: current ? { id: current.prompt.id, name: current.prompt.name, version: current.version.number } : null,
      last_model: lastModel || (first ? first.model : null),
    });
  }

  async function saveDraft() {
    draftTimer = null;
    if (!draftDirty) return;
    draftDirty = false;
    try {
      const response = await window.App.fetchJSON(draftUrl, { method: "PUT", body: draftBody() });
      draftStatus.textContent = response.ok ? "Draft saved." : "The draft could not be saved (HTTP " + response.status + ").";
    } catch (error) {
      draftDirty = true;
      draftStatus.textContent = "The draft could not be saved: " + error.message;
    }
  }

  function scheduleDraft() {
    draftDirty = true;
    updateStatus();
    if (draftTimer) clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS);
  }

  form.addEventListener("input", scheduleDraft);
  form.addEventListener("change", function (event) {
    const target = event.target;
    if (target && target.matches && target.matches("[data-model]")) lastModel = target.value;
    if (card.contains(target)) return;  // choosing a prompt changes nothing until it is opened
    scheduleDraft();
  });
  // Added or removed messages and columns (answers arriving change neither).
  const structure = new MutationObserver(scheduleDraft);
  structure.observe(document.getElementById("messages"), { childList: true });
  structure.observe(document.getElementById("columns"), { childList: true });
  // Leaving the page before the timer fired: send it now (keepalive outlives the page).
  window.addEventListener("pagehide", function () {
    if (!draftDirty) return;
    fetch(draftUrl, {
      method: "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.App.csrfToken() },
      body: JSON.stringify(draftBody()),
    });
  });

  // ---- Start -----------------------------------------------------------------------------------
  window.PlaygroundPrompts = { runFields: runFields, refresh: updateStatus };
  const draft = data.draft || {};
  lastModel = draft.last_model || null;
  if (draft.prompt && draft.prompt.id) {
    addPromptOption({ id: draft.prompt.id, name: draft.prompt.name || "" });
    loadVersions(draft.prompt.id, draft.prompt.version).then(function (prompt) {
      const version = versions.find(function (v) { return v.number === draft.prompt.version; });
      if (prompt && version) current = { prompt: { id: prompt.id, name: prompt.name }, version: version };
      updateStatus();
    });
  }
  updateStatus();
})();
